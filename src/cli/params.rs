//! `dorsalhorn params`.

use dorsalhorn::error::Error;

/// The options of `dorsalhorn params`.
#[derive(clap::Args)]
pub struct ParamsArgs {
    /// Markdown (the format of docs/model-parameters.md) instead of plain text.
    #[arg(long)]
    pub markdown: bool,
}

pub fn run(args: ParamsArgs) -> Result<(), Error> {
    let ParamsArgs { markdown } = args;
    let table = dorsalhorn::params::ParamTable::builtin();
    print!(
        "{}",
        if markdown {
            table.markdown()
        } else {
            table.text()
        }
    );
    Ok(())
}
