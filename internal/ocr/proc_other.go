//go:build !unix

package ocr

import "os/exec"

// killGroup leaves cmd as it is: without process groups, the timeout kills tesseract itself
// (exec.CommandContext's default), and WaitDelay bounds the wait for what it started.
func killGroup(*exec.Cmd) {}
