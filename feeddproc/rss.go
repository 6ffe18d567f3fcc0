package feeddproc

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// PeakRSS is the process's peak resident set in bytes: VmHWM from /proc
// while it runs, the kernel's maximum from its exit's resource usage
// after (0 if neither could be read).
func (p *Proc) PeakRSS() int64 {
	if p.Exited() {
		if ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			p.raiseHWM(ru.Maxrss * 1024) // Linux counts in KiB
		}
		return p.hwm.Load()
	}
	if v, err := vmHWM(p.Pid()); err == nil {
		p.raiseHWM(v)
	}
	return p.hwm.Load()
}

func (p *Proc) raiseHWM(v int64) {
	for {
		old := p.hwm.Load()
		if v <= old || p.hwm.CompareAndSwap(old, v) {
			return
		}
	}
}

// vmHWM reads the peak resident set of a live process from /proc.
func vmHWM(pid int) (int64, error) {
	fh, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("read status of %d: %w", pid, err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmHWM %q: %w", rest, err)
			}
			return kb * 1024, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read status of %d: %w", pid, err)
	}
	return 0, errors.New("no VmHWM in /proc status")
}
