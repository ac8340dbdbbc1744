package boltstore

// EncodeDialog is the record Commit writes for a dialog, for tests that fill a file directly.
var EncodeDialog = appendDialogRecord

// PageSize is the page size of a new file.
const PageSize = pageSize
