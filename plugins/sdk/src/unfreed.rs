//! Values a render never frees inside the sandbox: the host runs every `render` in a fresh
//! instance and throws the instance away afterwards, so walking a parsed workload or a written
//! fragment only to free it is wasted work (it was 2% of the example `otel-collector` plugin's
//! stream, perf). Off WebAssembly (a plugin's unit tests) they are freed as usual.

use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::Deref;

/// A value that is not freed when dropped inside a WebAssembly instance.
#[derive(Clone, PartialEq)]
pub(crate) struct Unfreed<T>(ManuallyDrop<T>);

impl<T> Unfreed<T> {
    /// Wraps `value`.
    pub(crate) fn new(value: T) -> Self {
        Unfreed(ManuallyDrop::new(value))
    }
}

impl<T> Drop for Unfreed<T> {
    fn drop(&mut self) {
        #[cfg(not(target_arch = "wasm32"))]
        // SAFETY: dropped once, here; the wrapper is gone afterwards.
        unsafe {
            ManuallyDrop::drop(&mut self.0)
        }
    }
}

impl<T> Deref for Unfreed<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: fmt::Debug> fmt::Debug for Unfreed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Lets `value` go: freed off WebAssembly, left in the instance's memory on it.
pub(crate) fn discard<T>(value: T) {
    drop(Unfreed::new(value));
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::*;

    #[test]
    fn off_webassembly_the_value_is_freed_once() {
        let shared = Rc::new(5);
        let kept = Unfreed::new(Rc::clone(&shared));
        let copy = kept.clone();
        assert_eq!(Rc::strong_count(&shared), 3);
        drop(kept);
        assert_eq!(Rc::strong_count(&shared), 2);
        drop(copy);
        discard(Rc::clone(&shared));
        assert_eq!(Rc::strong_count(&shared), 1);
    }
}
