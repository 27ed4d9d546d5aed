//! A writer of classic NetCDF files (format 2, "64-bit offset", the CDF-2 specification of
//! Unidata's netCDF User Guide): named dimensions, one unlimited (time), attributes and
//! variables of bytes, floats and doubles, big-endian. Enough for a run's fields with their
//! coordinates and units, read by `xarray.open_dataset`, netCDF4-python, ncdump or ParaView,
//! with no C library. Written record by record into a temporary file renamed into place.

use crate::error::Error;
use std::io::Write;
use std::path::Path;

const NC_DIMENSION: u32 = 0x0A;
const NC_VARIABLE: u32 = 0x0B;
const NC_ATTRIBUTE: u32 = 0x0C;

/// The external types written here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NcType {
    Byte,
    Float,
    Double,
}

impl NcType {
    fn code(self) -> u32 {
        match self {
            NcType::Byte => 1,
            NcType::Float => 5,
            NcType::Double => 6,
        }
    }

    fn size(self) -> usize {
        match self {
            NcType::Byte => 1,
            NcType::Float => 4,
            NcType::Double => 8,
        }
    }
}

/// An attribute value.
#[derive(Debug, Clone)]
pub enum Attr {
    Text(String),
    Doubles(Vec<f64>),
    Bytes(Vec<i8>),
}

/// A variable: its dimensions (indices into the file's dimensions; a record variable has the
/// unlimited dimension first), type and attributes.
#[derive(Debug, Clone)]
pub struct Var {
    pub name: String,
    pub dims: Vec<usize>,
    pub ty: NcType,
    pub attrs: Vec<(String, Attr)>,
}

/// A file's layout: dimensions (length 0 = the unlimited record dimension), global attributes and
/// variables.
#[derive(Debug, Clone, Default)]
pub struct NcFile {
    pub dims: Vec<(String, usize)>,
    pub attrs: Vec<(String, Attr)>,
    pub vars: Vec<Var>,
}

fn pad4(n: usize) -> usize {
    n.div_ceil(4) * 4
}

fn put_u32(b: &mut Vec<u8>, v: u32) {
    b.extend_from_slice(&v.to_be_bytes());
}

fn put_name(b: &mut Vec<u8>, s: &str) {
    put_u32(b, s.len() as u32);
    b.extend_from_slice(s.as_bytes());
    b.resize(pad4(b.len()), 0);
}

fn put_attrs(b: &mut Vec<u8>, attrs: &[(String, Attr)]) {
    if attrs.is_empty() {
        put_u32(b, 0);
        put_u32(b, 0);
        return;
    }
    put_u32(b, NC_ATTRIBUTE);
    put_u32(b, attrs.len() as u32);
    for (name, a) in attrs {
        put_name(b, name);
        match a {
            Attr::Text(t) => {
                put_u32(b, 2);
                put_u32(b, t.len() as u32);
                b.extend_from_slice(t.as_bytes());
            }
            Attr::Doubles(v) => {
                put_u32(b, NcType::Double.code());
                put_u32(b, v.len() as u32);
                for x in v {
                    b.extend_from_slice(&x.to_be_bytes());
                }
            }
            Attr::Bytes(v) => {
                put_u32(b, NcType::Byte.code());
                put_u32(b, v.len() as u32);
                b.extend(v.iter().map(|x| *x as u8));
            }
        }
        b.resize(pad4(b.len()), 0);
    }
}

impl NcFile {
    fn is_record(&self, v: &Var) -> bool {
        v.dims.first().is_some_and(|&d| self.dims[d].1 == 0)
    }

    /// Bytes of one value block of `v` (one record's slab for a record variable), padded to 4.
    fn vsize(&self, v: &Var) -> usize {
        let n: usize = v
            .dims
            .iter()
            .filter(|&&d| self.dims[d].1 != 0)
            .map(|&d| self.dims[d].1)
            .product();
        pad4(n * v.ty.size())
    }

    fn header(&self, numrecs: u32, begins: &[u64]) -> Vec<u8> {
        let mut b = b"CDF\x02".to_vec();
        put_u32(&mut b, numrecs);
        put_u32(&mut b, NC_DIMENSION);
        put_u32(&mut b, self.dims.len() as u32);
        for (name, len) in &self.dims {
            put_name(&mut b, name);
            put_u32(&mut b, *len as u32);
        }
        put_attrs(&mut b, &self.attrs);
        put_u32(&mut b, NC_VARIABLE);
        put_u32(&mut b, self.vars.len() as u32);
        for (v, begin) in self.vars.iter().zip(begins) {
            put_name(&mut b, &v.name);
            put_u32(&mut b, v.dims.len() as u32);
            for &d in &v.dims {
                put_u32(&mut b, d as u32);
            }
            put_attrs(&mut b, &v.attrs);
            put_u32(&mut b, v.ty.code());
            put_u32(&mut b, self.vsize(v).min(u32::MAX as usize) as u32);
            b.extend_from_slice(&begin.to_be_bytes());
        }
        b
    }

    /// Writes the file: `fixed` holds the big-endian values of each non-record variable in
    /// order, `records` yields, per record, the values of each record variable in order.
    pub fn write(
        &self,
        path: &Path,
        fixed: &[Vec<u8>],
        records: impl Iterator<Item = Result<Vec<Vec<u8>>, Error>>,
    ) -> Result<(), Error> {
        let header_len = self.header(0, &vec![0; self.vars.len()]).len() as u64;
        let mut begins = Vec::new();
        let mut at = header_len;
        for v in self.vars.iter().filter(|v| !self.is_record(v)) {
            begins.push((v.name.clone(), at));
            at += self.vsize(v) as u64;
        }
        let first_record = at;
        for v in self.vars.iter().filter(|v| self.is_record(v)) {
            begins.push((v.name.clone(), at));
            at += self.vsize(v) as u64;
        }
        let begin_of = |name: &str| {
            begins
                .iter()
                .find(|(n, _)| n == name)
                .map_or(0, |(_, b)| *b)
        };
        let ordered: Vec<u64> = self.vars.iter().map(|v| begin_of(&v.name)).collect();
        let dir = path.parent().unwrap_or(Path::new("."));
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("out.nc");
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let result = (|| -> Result<(), Error> {
            let io = |e| Error::io("cannot write output file", path, e);
            let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp).map_err(io)?);
            let mut numrecs = 0u32;
            // The header is rewritten with the record count at the end.
            f.write_all(&self.header(0, &ordered)).map_err(io)?;
            let fixed_vars: Vec<&Var> = self.vars.iter().filter(|v| !self.is_record(v)).collect();
            for (v, data) in fixed_vars.iter().zip(fixed) {
                let mut d = data.clone();
                d.resize(self.vsize(v), 0);
                f.write_all(&d).map_err(io)?;
            }
            debug_assert_eq!(
                first_record,
                header_len + fixed_vars.iter().map(|v| self.vsize(v) as u64).sum::<u64>()
            );
            let record_vars: Vec<&Var> = self.vars.iter().filter(|v| self.is_record(v)).collect();
            for rec in records {
                for (v, data) in record_vars.iter().zip(rec?) {
                    let mut d = data;
                    d.resize(self.vsize(v), 0);
                    f.write_all(&d).map_err(io)?;
                }
                numrecs += 1;
            }
            let mut f = f.into_inner().map_err(|e| io(e.into_error()))?;
            use std::io::Seek;
            f.seek(std::io::SeekFrom::Start(0)).map_err(io)?;
            f.write_all(&self.header(numrecs, &ordered)).map_err(io)?;
            f.sync_all().map_err(io)?;
            std::fs::rename(&tmp, path).map_err(io)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}

/// Big-endian bytes of doubles.
pub fn be_f64(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_be_bytes()).collect()
}

/// Big-endian bytes of floats.
pub fn be_f32(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_be_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_follows_the_cdf2_layout() {
        let f = NcFile {
            dims: vec![("time".into(), 0), ("x".into(), 3)],
            attrs: vec![("title".into(), Attr::Text("t".into()))],
            vars: vec![
                Var {
                    name: "x".into(),
                    dims: vec![1],
                    ty: NcType::Double,
                    attrs: vec![],
                },
                Var {
                    name: "u".into(),
                    dims: vec![0, 1],
                    ty: NcType::Float,
                    attrs: vec![],
                },
            ],
        };
        let h = f.header(2, &[100, 124]);
        assert_eq!(&h[..4], b"CDF\x02");
        assert_eq!(&h[4..8], &2u32.to_be_bytes());
        assert_eq!(&h[8..12], &NC_DIMENSION.to_be_bytes());
        // A name is its length and its bytes padded to 4: "time" → 4 + 4.
        assert_eq!(&h[16..20], &4u32.to_be_bytes());
        assert_eq!(&h[20..24], b"time");
        assert_eq!(&h[24..28], &0u32.to_be_bytes(), "the record dimension");
        assert_eq!(h.len() % 4, 0);
        assert_eq!(f.vsize(&f.vars[1]), 12);
    }
}
