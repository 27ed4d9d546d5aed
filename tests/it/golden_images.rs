//! Golden images of the frame writer: a known field through each colormap must give the stored
//! PNG's pixels within 1 level per channel. DORSALHORN_BLESS=1 rewrites the goldens; on failure a
//! `*.actual.png` is written beside the golden for inspection.

use dorsalhorn::colormap::Colormap;
use dorsalhorn::output::field_png;

fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("buffer size")];
    let info = reader.next_frame(&mut buf).expect("PNG data");
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

#[test]
fn frames_match_their_goldens() {
    let (nx, ny) = (96usize, 24usize);
    // A ramp along x with a NaN cell and values beyond the range at the ends.
    let mut field: Vec<f32> = (0..nx * ny)
        .map(|i| (i % nx) as f32 / (nx - 1) as f32 * 1.2 - 0.1)
        .collect();
    field[5 * nx + 40] = f32::NAN;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    for (name, cmap) in [
        ("viridis", Colormap::Viridis),
        ("magma", Colormap::Magma),
        ("diverging", Colormap::Diverging),
    ] {
        let png_bytes = field_png(&field, nx, ny, cmap, (0.0, 1.0));
        let path = dir.join(format!("ramp_{name}.png"));
        if std::env::var_os("DORSALHORN_BLESS").is_some() {
            std::fs::write(&path, &png_bytes).unwrap();
        }
        let golden = std::fs::read(&path)
            .unwrap_or_else(|_| panic!("missing {}: run with DORSALHORN_BLESS=1", path.display()));
        let (gw, gh, gp) = decode(&golden);
        let (w, h, p) = decode(&png_bytes);
        assert_eq!((w, h), (gw, gh));
        let worst = gp
            .iter()
            .zip(&p)
            .map(|(a, b)| a.abs_diff(*b))
            .max()
            .unwrap_or(0);
        if worst > 1 {
            std::fs::write(dir.join(format!("ramp_{name}.actual.png")), &png_bytes).unwrap();
            panic!("{name}: pixels differ from the golden by up to {worst} levels");
        }
    }
}
