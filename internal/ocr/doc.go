// Package ocr reads the text of the screenshots people send (a checkout error, a bank's SMS,
// a bank app's popup) with Tesseract's command-line program, for the recognizer.
//
// The image is decoded in Go first, under limits on its size in bytes and in pixels (a
// decompression bomb is refused before its pixels are allocated), turned to gray, scaled to
// a size Tesseract reads well, inverted when it is dark mode, and piped to tesseract's
// stdin: it never touches the disk. Nothing here logs the image or the text read.
//
// Caveats: Tesseract is found at start (Find); a machine without it, or without its chi_sim
// and eng models, gets ErrUnavailable and the bot treats pictures as it did before. Each
// image runs one tesseract process with OMP_THREAD_LIMIT=1, so that the two jobs allowed at
// once use one core each.
package ocr
