// Package bot holds the data the binary ships with: the diagnosis flow (flow/), the
// localized texts (locales/) and the phrases recognised in free text (phrases/). Operators
// override any of it with a directory of the same layout (see internal/kb).
package bot

import (
	"embed"
	"io/fs"
)

//go:embed flow/*.toml locales/*.toml phrases/*.toml testdata/recognize/train.tsv
var data embed.FS

// Data returns the embedded knowledge-base files.
func Data() fs.FS { return data }
