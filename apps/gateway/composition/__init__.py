"""Answers of the public API that need more than one context. Each module composes one answer from contract calls
(never a contract calling another contract from inside its implementation), with a fixed number of calls whatever
the size of the answer."""
