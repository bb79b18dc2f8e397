//! Durable jobs (see the module docs once written).
