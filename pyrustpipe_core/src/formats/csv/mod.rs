//! CSV: the record parser, the block reader that feeds the workers, and the block parser that
//! turns a block into rows for the check loop.

pub mod block;
pub mod parser;
pub mod reader;
