//! An in-memory [`Queryable`]: a list of series, for tests, benches and the
//! promqltest runner.

use sightline_core::{Labels, Matcher, Sample, matches_all};

use crate::{EvalError, Queryable, Series};

/// Series held in memory, each with sorted, de-duplicated samples.
#[derive(Debug, Clone, Default)]
pub struct MemStorage {
    series: Vec<Series>,
}

impl MemStorage {
    pub fn new() -> Self {
        MemStorage::default()
    }

    /// Adds samples to the series with these labels (creating it). A sample
    /// at a timestamp already present replaces the stored one.
    pub fn add(&mut self, labels: Labels, samples: impl IntoIterator<Item = Sample>) {
        let idx = match self.series.iter().position(|s| s.labels == labels) {
            Some(i) => i,
            None => {
                self.series.push(Series {
                    labels,
                    samples: Vec::new(),
                });
                self.series.len() - 1
            }
        };
        let s = &mut self.series[idx].samples;
        for smp in samples {
            match s.binary_search_by(|x| x.t.cmp(&smp.t)) {
                Ok(i) => s[i] = smp,
                Err(i) => s.insert(i, smp),
            }
        }
    }

    /// Drops every series.
    pub fn clear(&mut self) {
        self.series.clear();
    }

    /// All series, in insertion order.
    pub fn series(&self) -> &[Series] {
        &self.series
    }
}

impl Queryable for MemStorage {
    fn select(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<Series>, EvalError> {
        let mut out = Vec::new();
        for s in &self.series {
            if !matches_all(matchers, &s.labels) {
                continue;
            }
            let lo = s.samples.partition_point(|x| x.t < start_ms);
            let hi = s.samples.partition_point(|x| x.t <= end_ms);
            if lo < hi {
                out.push(Series {
                    labels: s.labels.clone(),
                    samples: s.samples[lo..hi].to_vec(),
                });
            }
        }
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(out)
    }
}
