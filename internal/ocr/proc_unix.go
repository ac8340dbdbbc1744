//go:build unix

package ocr

import (
	"os/exec"
	"syscall"
)

// killGroup runs cmd in a process group of its own and makes its cancellation (the timeout)
// kill the whole group: a tesseract that is a wrapper script must not leave the real one
// running, holding a core and the output pipe.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
