//! Write-ahead log segments: numbered files of length- and CRC-framed entries.
//!
//! Frame: `len: u32 LE | crc32(payload): u32 LE | payload`. A reader stops at
//! the first frame whose header or payload is short or whose CRC does not
//! match, and the file is cut there: a torn tail is never replayed.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Largest payload a frame may carry; a longer length field means garbage.
pub const MAX_FRAME_BYTES: usize = 1 << 30;

const HEADER: usize = 8;

/// Appends one frame for `payload` to `out`.
pub fn frame(payload: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// The segment file name for a sequence number.
pub fn segment_path(dir: &Path, no: u64) -> PathBuf {
    dir.join(format!("{no:016}.wal"))
}

/// Lists segment numbers in `dir`, ascending.
pub fn list_segments(dir: &Path) -> io::Result<Vec<u64>> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(stem) = name.strip_suffix(".wal")
            && let Ok(n) = stem.parse::<u64>()
        {
            out.push(n);
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// What replaying one segment found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ReplayStats {
    pub entries: usize,
    /// Bytes cut from the end because they did not form a valid frame.
    pub truncated_bytes: u64,
}

/// Reads every valid frame of a segment, calls `f` on each payload, and cuts
/// the file after the last valid frame.
pub fn replay_segment(path: &Path, mut f: impl FnMut(&[u8])) -> io::Result<ReplayStats> {
    let mut data = Vec::new();
    File::open(path)?.read_to_end(&mut data)?;
    let mut pos = 0usize;
    let mut stats = ReplayStats::default();
    while data.len() - pos >= HEADER {
        let len =
            u32::from_le_bytes([data[pos], data[pos + 1], data[pos + 2], data[pos + 3]]) as usize;
        let crc = u32::from_le_bytes([data[pos + 4], data[pos + 5], data[pos + 6], data[pos + 7]]);
        if len > MAX_FRAME_BYTES || data.len() - pos - HEADER < len {
            break;
        }
        let payload = &data[pos + HEADER..pos + HEADER + len];
        if crc32fast::hash(payload) != crc {
            break;
        }
        f(payload);
        stats.entries += 1;
        pos += HEADER + len;
    }
    if pos < data.len() {
        stats.truncated_bytes = (data.len() - pos) as u64;
        let file = OpenOptions::new().write(true).open(path)?;
        file.set_len(pos as u64)?;
        file.sync_all()?;
    }
    Ok(stats)
}

/// An open segment being appended to.
pub struct SegmentWriter {
    pub no: u64,
    file: File,
    /// Bytes durably written so far.
    len: u64,
}

impl SegmentWriter {
    pub fn create(dir: &Path, no: u64) -> io::Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(segment_path(dir, no))?;
        // Make the new file's directory entry durable too.
        File::open(dir)?.sync_all()?;
        let len = file.metadata()?.len();
        Ok(SegmentWriter { no, file, len })
    }

    /// Writes framed bytes and waits until they are on disk. On failure the
    /// segment is cut back to its last durable length, so that a later
    /// write does not land behind a torn frame (which replay would cut,
    /// taking the later write with it).
    pub fn write_durable(&mut self, framed: &[u8]) -> io::Result<()> {
        let res = self
            .file
            .write_all(framed)
            .and_then(|()| self.file.sync_data());
        match res {
            Ok(()) => {
                self.len += framed.len() as u64;
                Ok(())
            }
            Err(e) => {
                self.file
                    .set_len(self.len)
                    .and_then(|()| self.file.sync_all())?;
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn torn_tail_is_cut_and_not_replayed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut w = SegmentWriter::create(dir.path(), 1).expect("create");
        let mut buf = Vec::new();
        frame(b"first", &mut buf);
        frame(b"second", &mut buf);
        w.write_durable(&buf).expect("write");
        // A torn third frame: header promises more than was written.
        let mut torn = Vec::new();
        frame(b"third entry", &mut torn);
        w.write_durable(&torn[..torn.len() - 3]).expect("write");
        drop(w);

        let mut seen = Vec::new();
        let st = replay_segment(&segment_path(dir.path(), 1), |p| seen.push(p.to_vec()))
            .expect("replay");
        assert_eq!(seen, vec![b"first".to_vec(), b"second".to_vec()]);
        assert_eq!(st.truncated_bytes, (torn.len() - 3) as u64);
        // Cut for good: a second replay sees a clean file.
        let st2 = replay_segment(&segment_path(dir.path(), 1), |_| {}).expect("replay");
        assert_eq!(
            st2,
            ReplayStats {
                entries: 2,
                truncated_bytes: 0
            }
        );
    }

    #[test]
    fn corrupt_crc_stops_replay() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut buf = Vec::new();
        frame(b"good", &mut buf);
        let at = buf.len();
        frame(b"flipped", &mut buf);
        buf[at + HEADER] ^= 0x40;
        fs::write(segment_path(dir.path(), 7), &buf).expect("write");
        let mut n = 0;
        replay_segment(&segment_path(dir.path(), 7), |_| n += 1).expect("replay");
        assert_eq!(n, 1);
        assert_eq!(list_segments(dir.path()).expect("list"), vec![7]);
    }
}
