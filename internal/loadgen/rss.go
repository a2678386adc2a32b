package loadgen

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// PeakRSS returns a process's peak resident set size in bytes (VmHWM in
// /proc/PID/status; Linux only). pid 0 means this process. ok is false
// where that cannot be read: another operating system, a process that has
// gone, or one the caller may not inspect.
func PeakRSS(pid int) (bytes int64, ok bool) {
	f, err := os.Open(procFile(pid, "status")) // #nosec G304 -- a /proc path built from a number
	if err != nil {
		return 0, false
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, found := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !found {
			continue
		}
		fields := strings.Fields(rest) // "123456 kB"
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, false
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, false
		}
		return kb * 1024, true
	}
	return 0, false
}

// ProcessCPU returns the CPU time (user and system) a process has used so
// far, from /proc/PID/stat (Linux only); pid 0 means this process. ok is
// false where that cannot be read, as for PeakRSS. Its resolution is the
// kernel's USER_HZ tick, 10 ms.
//
// Why: capacity planning needs the cost of a request as well as the
// rate; where the cores are the limit, rate ≈ cores ÷ CPU per request.
func ProcessCPU(pid int) (cpu time.Duration, ok bool) {
	b, err := os.ReadFile(procFile(pid, "stat")) // #nosec G304 -- a /proc path built from a number
	if err != nil {
		return 0, false
	}
	return parseStatCPU(string(b))
}

// userHZ is the unit of utime and stime in /proc/PID/stat: USER_HZ, which
// Linux fixes at 100 for user space whatever the kernel's own tick.
const userHZ = 100

// parseStatCPU reads utime and stime (fields 14 and 15) from a
// /proc/PID/stat line. The command name (field 2) is in parentheses and
// may hold spaces and parentheses itself, so fields are counted after
// its last ')'.
func parseStatCPU(stat string) (time.Duration, bool) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, false
	}
	// After ")": field 3 (state) onwards; utime is field 14, stime 15.
	fields := strings.Fields(stat[i+1:])
	if len(fields) < 13 {
		return 0, false
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil || n < 0 {
			return 0, false
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, true
}

// procFile is the path of a process's file under /proc; pid 0 means this
// process.
func procFile(pid int, name string) string {
	if pid > 0 {
		return fmt.Sprintf("/proc/%d/%s", pid, name)
	}
	return "/proc/self/" + name
}
