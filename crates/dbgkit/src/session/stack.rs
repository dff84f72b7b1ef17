//! Stack traces of stopped threads.
