//! The binary heap `topk`/`bottomk`/`limitk` keep per group, with the same
//! sift order as Go's `container/heap`, so that ties resolve as they do in
//! Prometheus.

use crate::evaluator::Elem;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum HeapOrder {
    /// Smallest value on top (NaN counts as smallest); for `topk`.
    MinOnTop,
    /// Largest value on top (NaN counts as largest); for `bottomk`.
    MaxOnTop,
}

#[derive(Clone, Debug)]
pub(crate) struct Heap {
    order: HeapOrder,
    items: Vec<Elem>,
}

impl Heap {
    pub fn new(order: HeapOrder) -> Self {
        Heap {
            order,
            items: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn top(&self) -> Option<&Elem> {
        self.items.first()
    }

    fn less(&self, i: usize, j: usize) -> bool {
        let (a, b) = (self.items[i].v, self.items[j].v);
        if a.is_nan() {
            return true;
        }
        match self.order {
            HeapOrder::MinOnTop => a < b,
            HeapOrder::MaxOnTop => a > b,
        }
    }

    fn up(&mut self, mut j: usize) {
        while j > 0 {
            let i = (j - 1) / 2;
            if !self.less(j, i) {
                break;
            }
            self.items.swap(i, j);
            j = i;
        }
    }

    fn down(&mut self, i0: usize) -> bool {
        let n = self.items.len();
        let mut i = i0;
        loop {
            let j1 = 2 * i + 1;
            if j1 >= n {
                break;
            }
            let mut j = j1;
            let j2 = j1 + 1;
            if j2 < n && self.less(j2, j1) {
                j = j2;
            }
            if !self.less(j, i) {
                break;
            }
            self.items.swap(i, j);
            i = j;
        }
        i > i0
    }

    pub fn push(&mut self, e: Elem) {
        self.items.push(e);
        let last = self.items.len() - 1;
        self.up(last);
    }

    /// Overwrites the top element, restoring the heap order if `fix`.
    pub fn replace_top(&mut self, e: Elem, fix: bool) {
        if self.items.is_empty() {
            self.items.push(e);
            return;
        }
        self.items[0] = e;
        if fix && !self.down(0) {
            self.up(0);
        }
    }

    /// The elements in heap order.
    pub fn into_vec(self) -> Vec<Elem> {
        self.items
    }

    /// The elements with the top-most last reversed: largest first for a
    /// min-heap, smallest first for a max-heap (NaN last), sorted as Go's
    /// insertion sort does.
    pub fn into_sorted(mut self) -> Vec<Elem> {
        let n = self.items.len();
        for i in 1..n {
            let mut j = i;
            // Reversed order: less(j, j-1) of the reverse is less(j-1, j).
            while j > 0 && self.less(j - 1, j) {
                self.items.swap(j, j - 1);
                j -= 1;
            }
        }
        self.items
    }
}
