package boltstore

import (
	"os"
	"syscall"
)

// datasync flushes f's data to the disk, without its times: fdatasync, as bbolt does on Linux.
func datasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
