//! The tests' pseudo-random numbers: Marsaglia's xorshift64 (G. Marsaglia, "Xorshift RNGs",
//! Journal of Statistical Software 8(14), 2003), seeded, so that every run draws the same cases.

/// A xorshift64 generator (shifts 13, 7, 17).
pub(crate) struct XorShift64(u64);

impl XorShift64 {
    /// A generator started at `seed` (not zero: zero stays zero).
    pub(crate) const fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next number.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}
