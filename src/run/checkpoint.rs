//! Checkpoints of a headless dorsal-horn run (layer 4): `dorsalhorn run --checkpoint-every
//! DURATION` writes `checkpoint.bin` into the run folder every so much wall time and when Ctrl-C
//! or SIGTERM stops the run; `dorsalhorn resume DIR` continues from it, and the files it writes
//! are byte for byte those of the run had it never stopped.
//!
//! A checkpoint holds what stepping changed and the run's own bookkeeping: the tissue's clock,
//! counters, every cell's raw state and the implicit transport's history
//! ([`SimState`]); the loop's next output time and read-outs (from
//! which `timeseries.csv` is rewritten); the snapshots written so far; and where the composed
//! figures stand (their fields stay in the folder's spill file). Everything fixed by the set-up
//! (maps, thresholds, kernels) is rebuilt from the folder's `scenario.toml` and the parameters in
//! its `provenance.json`, and a digest of both must match the checkpoint's.
//!
//! The file is binary (little-endian; floats as their bits, so NaN and every last bit survive),
//! written atomically, and ends with an FNV-1a checksum of everything before it.

use crate::error::Error;
use crate::figure::FigureState;
use crate::output::{self, FNV_START, fnv1a};
use crate::run::stepper::StepperState;
use crate::scenario::dorsal_horn::TissueScenario;
use crate::tissue::SimState;
use crate::tissue::observe::Readout;
use std::path::Path;

/// The checkpoint file in a run folder.
pub const CHECKPOINT_FILE: &str = "checkpoint.bin";
/// The format: this magic, the fields of [`RunCheckpoint`] in order, the checksum.
const MAGIC: &[u8; 8] = b"DHCKPT01";

/// An earlier continuation of a run (summary.json's `resumed`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Resumed {
    /// The model time it continued from (s).
    pub from_time_s: f64,
    pub command: String,
    pub unix_s: u64,
}

/// Everything `dorsalhorn resume` needs beyond the folder's scenario and parameters.
#[derive(Debug, Clone)]
pub struct RunCheckpoint {
    pub dorsalhorn_version: String,
    pub source_revision: String,
    /// [`scenario_digest`] of the run's resolved scenario and parameter table.
    pub scenario_digest: u64,
    /// The adapter the run started on (another one gives other bits).
    pub adapter: String,
    /// The command that started the run (fields.nc's `history`).
    pub command: String,
    pub saved_unix_s: u64,
    /// Wall time of the run up to this checkpoint, over all its processes (s).
    pub wall_s: f64,
    /// The checkpoint interval the run was started with (`None`: only on interruption).
    pub every_s: Option<f64>,
    pub resumed: Vec<Resumed>,
    pub stepper: StepperState,
    /// Snapshot times written so far (minutes) and the next one (s).
    pub snapshot_minutes: Vec<u64>,
    pub next_snapshot_s: f64,
    pub figures: Option<FigureState>,
}

/// The digest that ties a checkpoint to its scenario: the resolved scenario and the parameter
/// table in effect (so an edited `scenario.toml` or another `$DORSALHORN_PARAM_SET` is caught).
pub fn scenario_digest(sc: &TissueScenario) -> u64 {
    let scenario = toml::to_string(&sc.resolved_toml).expect("a TOML table serialises");
    let params = crate::params::ParamTable::builtin().markdown();
    fnv1a(fnv1a(FNV_START, scenario.as_bytes()), params.as_bytes())
}

/// Writes `ck` to `dir/checkpoint.bin` atomically.
pub fn write(dir: &Path, ck: &RunCheckpoint) -> Result<(), Error> {
    output::write_atomic(&dir.join(CHECKPOINT_FILE), &encode(ck))
}

/// Reads `dir/checkpoint.bin`, saying what is wrong and what to do when it is missing or broken.
pub fn read(dir: &Path) -> Result<RunCheckpoint, Error> {
    let path = dir.join(CHECKPOINT_FILE);
    let bytes = std::fs::read(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::Output(format!(
                "{} has no {CHECKPOINT_FILE}: the run stopped before its first checkpoint, or \
                 was started with --checkpoint-every off. Start it again with `dorsalhorn run \
                 --from {} --out NEW_DIR` (or its own command with --overwrite)",
                dir.display(),
                dir.display()
            ))
        } else {
            Error::io("cannot read the checkpoint", &path, e)
        }
    })?;
    decode(&bytes).map_err(|why| {
        Error::Output(format!(
            "{} is not a readable checkpoint ({why}). Start the run again with `dorsalhorn run \
             --from {} --out NEW_DIR`",
            path.display(),
            dir.display()
        ))
    })
}

/// Removes the checkpoint of a completed run (nothing is left to resume).
pub fn remove(dir: &Path) -> Result<(), Error> {
    let path = dir.join(CHECKPOINT_FILE);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("cannot remove the checkpoint", &path, e)),
    }
}

/// Parses a `--checkpoint-every` value: `off`, or a wall-clock duration with its unit (`90s`,
/// `10min`, `2h`; `0s` checkpoints after every transport step). Gives seconds, `None` for off.
pub fn parse_every(text: &str) -> Result<Option<f64>, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let scale = match unit.trim() {
        "s" => 1.0,
        "min" => 60.0,
        "h" => 3600.0,
        _ => {
            return Err(format!(
                "`{text}` is not a duration: give a number with its unit s, min or h (wall \
                 time, e.g. 10min), or off"
            ));
        }
    };
    match num.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(Some(v * scale)),
        _ => Err(format!(
            "`{text}` is not a duration: give a number ≥ 0 with its unit s, min or h (wall \
             time, e.g. 10min), or off"
        )),
    }
}

struct Enc(Vec<u8>);

impl Enc {
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn f64(&mut self, v: f64) {
        self.u64(v.to_bits());
    }
    fn f32(&mut self, v: f32) {
        self.0.extend_from_slice(&v.to_bits().to_le_bytes());
    }
    fn opt_f64(&mut self, v: Option<f64>) {
        self.u64(u64::from(v.is_some()));
        self.f64(v.unwrap_or(0.0));
    }
    fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }
    fn f32s(&mut self, v: &[f32]) {
        self.u64(v.len() as u64);
        for x in v {
            self.f32(*x);
        }
    }
    fn f64s(&mut self, v: &[f64]) {
        self.u64(v.len() as u64);
        for x in v {
            self.f64(*x);
        }
    }
}

struct Dec<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Dec<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| format!("cut short at byte {}", self.at))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    fn len(&mut self) -> Result<usize, String> {
        let n = self.u64()?;
        // No list is longer than the file.
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.bytes.len())
            .ok_or_else(|| format!("a length of {n} at byte {}", self.at - 8))
    }
    fn f64(&mut self) -> Result<f64, String> {
        Ok(f64::from_bits(self.u64()?))
    }
    fn f32(&mut self) -> Result<f32, String> {
        Ok(f32::from_bits(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        )))
    }
    fn opt_f64(&mut self) -> Result<Option<f64>, String> {
        let some = self.u64()? != 0;
        let v = self.f64()?;
        Ok(some.then_some(v))
    }
    fn str(&mut self) -> Result<String, String> {
        let n = self.len()?;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| "a text that is not UTF-8".into())
    }
    fn f32s(&mut self) -> Result<Vec<f32>, String> {
        let n = self.len()?;
        (0..n).map(|_| self.f32()).collect()
    }
    fn f64s(&mut self) -> Result<Vec<f64>, String> {
        let n = self.len()?;
        (0..n).map(|_| self.f64()).collect()
    }
}

fn encode_readout(e: &mut Enc, r: &Readout) {
    for v in [r.time_s, r.p_mech, r.p_heat, r.p_spont, r.pwt_g, r.pwl_s] {
        e.f64(v);
    }
    e.u64(r.means.len() as u64);
    for m in &r.means {
        e.f64s(m);
    }
}

fn decode_readout(d: &mut Dec) -> Result<Readout, String> {
    let mut v = [0.0; 6];
    for x in &mut v {
        *x = d.f64()?;
    }
    let n = d.len()?;
    let means = (0..n).map(|_| d.f64s()).collect::<Result<_, _>>()?;
    Ok(Readout {
        time_s: v[0],
        p_mech: v[1],
        p_heat: v[2],
        p_spont: v[3],
        pwt_g: v[4],
        pwl_s: v[5],
        means,
        spatial: Vec::new(),
    })
}

fn encode(ck: &RunCheckpoint) -> Vec<u8> {
    let mut e = Enc(MAGIC.to_vec());
    e.str(&ck.dorsalhorn_version);
    e.str(&ck.source_revision);
    e.u64(ck.scenario_digest);
    e.str(&ck.adapter);
    e.str(&ck.command);
    e.u64(ck.saved_unix_s);
    e.f64(ck.wall_s);
    e.opt_f64(ck.every_s);
    e.u64(ck.resumed.len() as u64);
    for r in &ck.resumed {
        e.f64(r.from_time_s);
        e.str(&r.command);
        e.u64(r.unix_s);
    }
    let s = &ck.stepper.sim;
    e.f64(s.time_s);
    for v in [
        s.transport_steps,
        s.reaction_substeps,
        s.stencil_passes,
        s.dispatches,
    ] {
        e.u64(v);
    }
    e.f64(s.explicit_passes);
    e.opt_f64(s.previous_dt);
    e.f32s(&s.states);
    e.u64(s.history.len() as u64);
    for layer in &s.history {
        e.f32s(layer);
    }
    e.f64(ck.stepper.next_output);
    e.f64(ck.stepper.readout_s);
    e.u64(ck.stepper.readouts.len() as u64);
    for r in &ck.stepper.readouts {
        encode_readout(&mut e, r);
    }
    e.u64(ck.snapshot_minutes.len() as u64);
    for m in &ck.snapshot_minutes {
        e.u64(*m);
    }
    e.f64(ck.next_snapshot_s);
    e.u64(u64::from(ck.figures.is_some()));
    if let Some(f) = &ck.figures {
        e.f64s(&f.times);
        e.u64(f.run_ranges.len() as u64);
        for (lo, hi) in &f.run_ranges {
            e.f32(*lo);
            e.f32(*hi);
        }
        e.u64(f.pain.len() as u64);
        for p in &f.pain {
            e.f64s(p);
        }
        e.f64(f.next_s);
        e.u64(f.next_step as u64);
        e.u64(f.step_figures.len() as u64);
        for (a, b) in &f.step_figures {
            e.u64(*a as u64);
            e.u64(*b as u64);
        }
    }
    let sum = fnv1a(FNV_START, &e.0);
    e.u64(sum);
    e.0
}

fn decode_sim(d: &mut Dec) -> Result<SimState, String> {
    let time_s = d.f64()?;
    let transport_steps = d.u64()?;
    let reaction_substeps = d.u64()?;
    let stencil_passes = d.u64()?;
    let dispatches = d.u64()?;
    let explicit_passes = d.f64()?;
    let previous_dt = d.opt_f64()?;
    let states = d.f32s()?;
    let n = d.len()?;
    let history = (0..n).map(|_| d.f32s()).collect::<Result<_, _>>()?;
    Ok(SimState {
        time_s,
        transport_steps,
        reaction_substeps,
        stencil_passes,
        explicit_passes,
        dispatches,
        previous_dt,
        states,
        history,
    })
}

fn decode_figures(d: &mut Dec) -> Result<FigureState, String> {
    let times = d.f64s()?;
    let n = d.len()?;
    let run_ranges = (0..n)
        .map(|_| Ok((d.f32()?, d.f32()?)))
        .collect::<Result<_, String>>()?;
    let n = d.len()?;
    let pain = (0..n)
        .map(|_| {
            let v = d.f64s()?;
            <[f64; 3]>::try_from(v).map_err(|_| "a pain sample of the wrong size".to_string())
        })
        .collect::<Result<_, _>>()?;
    let next_s = d.f64()?;
    let next_step = d.len()?;
    let n = d.len()?;
    let step_figures = (0..n)
        .map(|_| Ok((d.len()?, d.len()?)))
        .collect::<Result<_, String>>()?;
    Ok(FigureState {
        times,
        run_ranges,
        pain,
        next_s,
        next_step,
        step_figures,
    })
}

fn decode(bytes: &[u8]) -> Result<RunCheckpoint, String> {
    let body_len = bytes
        .len()
        .checked_sub(8)
        .ok_or("shorter than its checksum")?;
    let (body, sum) = bytes.split_at(body_len);
    if fnv1a(FNV_START, body) != u64::from_le_bytes(sum.try_into().expect("8 bytes")) {
        return Err("its checksum does not match: the file is damaged".into());
    }
    if !body.starts_with(MAGIC) {
        return Err("not a dorsalhorn checkpoint of this format".into());
    }
    let mut d = Dec {
        bytes: body,
        at: MAGIC.len(),
    };
    let dorsalhorn_version = d.str()?;
    let source_revision = d.str()?;
    let scenario_digest = d.u64()?;
    let adapter = d.str()?;
    let command = d.str()?;
    let saved_unix_s = d.u64()?;
    let wall_s = d.f64()?;
    let every_s = d.opt_f64()?;
    let n = d.len()?;
    let resumed = (0..n)
        .map(|_| {
            Ok(Resumed {
                from_time_s: d.f64()?,
                command: d.str()?,
                unix_s: d.u64()?,
            })
        })
        .collect::<Result<_, String>>()?;
    let sim = decode_sim(&mut d)?;
    let next_output = d.f64()?;
    let readout_s = d.f64()?;
    let n = d.len()?;
    let readouts = (0..n)
        .map(|_| decode_readout(&mut d))
        .collect::<Result<_, _>>()?;
    let n = d.len()?;
    let snapshot_minutes = (0..n).map(|_| d.u64()).collect::<Result<_, _>>()?;
    let next_snapshot_s = d.f64()?;
    let figures = if d.u64()? != 0 {
        Some(decode_figures(&mut d)?)
    } else {
        None
    };
    if d.at != body.len() {
        return Err(format!("{} bytes left over", body.len() - d.at));
    }
    Ok(RunCheckpoint {
        dorsalhorn_version,
        source_revision,
        scenario_digest,
        adapter,
        command,
        saved_unix_s,
        wall_s,
        every_s,
        resumed,
        stepper: StepperState {
            sim,
            next_output,
            readouts,
            readout_s,
        },
        snapshot_minutes,
        next_snapshot_s,
        figures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RunCheckpoint {
        RunCheckpoint {
            dorsalhorn_version: "0.1.0".into(),
            source_revision: "abc1234".into(),
            scenario_digest: 0x1234_5678_9abc_def0,
            adapter: "llvmpipe".into(),
            command: "dorsalhorn run cfa_ea_2hz".into(),
            saved_unix_s: 1_800_000_000,
            wall_s: 12.5,
            every_s: Some(600.0),
            resumed: vec![Resumed {
                from_time_s: 7200.0,
                command: "dorsalhorn resume out/x".into(),
                unix_s: 1_800_000_100,
            }],
            stepper: StepperState {
                sim: SimState {
                    time_s: 7_200.000_000_1,
                    transport_steps: 12,
                    reaction_substeps: 96,
                    stencil_passes: 3000,
                    explicit_passes: 1.5e6,
                    dispatches: 700,
                    previous_dt: Some(600.0),
                    states: vec![1.0, f32::NAN, -0.0, 3.5e-38],
                    history: vec![vec![0.25; 4], vec![0.5; 4]],
                },
                next_output: 10800.0,
                readouts: vec![Readout {
                    time_s: 3600.0,
                    p_mech: 1.25,
                    p_heat: 0.1 + 0.2,
                    p_spont: f64::NAN,
                    pwt_g: 12.0,
                    pwl_s: 10.0,
                    means: vec![vec![1.0, 2.0], vec![f64::MIN_POSITIVE]],
                    spatial: Vec::new(),
                }],
                readout_s: 0.75,
            },
            snapshot_minutes: vec![0, 60],
            next_snapshot_s: 7200.0,
            figures: Some(FigureState {
                times: vec![0.0, 3600.0],
                run_ranges: vec![(0.0, 1.0), (f32::INFINITY, f32::NEG_INFINITY)],
                pain: vec![[0.0, 1.0, 1.0], [3600.0, 1.5, 1.2]],
                next_s: 7200.0,
                next_step: 1,
                step_figures: vec![(0, 1)],
            }),
        }
    }

    /// Every field comes back bit for bit (NaN, −0 and subnormals included).
    #[test]
    fn a_checkpoint_round_trips_bit_for_bit() {
        let ck = sample();
        let back = decode(&encode(&ck)).unwrap();
        assert_eq!(encode(&back), encode(&ck));
        assert_eq!(back.stepper.sim.states[2].to_bits(), (-0.0f32).to_bits());
        assert!(back.stepper.readouts[0].p_spont.is_nan());
        assert_eq!(back.stepper.readouts[0].p_heat, 0.1 + 0.2);
        assert_eq!(back.figures, ck.figures);
        assert_eq!(back.resumed, ck.resumed);
    }

    /// A damaged or cut file is refused, never half read.
    #[test]
    fn a_damaged_checkpoint_is_refused() {
        let bytes = encode(&sample());
        let mut flipped = bytes.clone();
        flipped[40] ^= 1;
        assert!(decode(&flipped).unwrap_err().contains("checksum"));
        assert!(decode(&bytes[..bytes.len() / 2]).is_err());
        assert!(decode(&[]).is_err());
    }

    #[test]
    fn durations_parse_with_their_unit() {
        assert_eq!(parse_every("off"), Ok(None));
        assert_eq!(parse_every("90s"), Ok(Some(90.0)));
        assert_eq!(parse_every("10min"), Ok(Some(600.0)));
        assert_eq!(parse_every("1.5h"), Ok(Some(5400.0)));
        assert_eq!(parse_every("0s"), Ok(Some(0.0)));
        for bad in ["10", "ten min", "-5s", "5 days", ""] {
            assert!(parse_every(bad).is_err(), "{bad}");
        }
    }
}
