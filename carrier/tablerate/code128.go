package tablerate

import (
	"fmt"
	"strings"
)

// Code 128 (ISO/IEC 15417) is implemented here rather than imported: the
// symbology is a 107-entry table and a checksum, and owning it keeps the
// label free of a dependency whose only use would be these ~100 lines.
//
// Only code sets B (ASCII 32–127) and C (digit pairs) are used: labels
// print tracking numbers, which are letters and digits.

// code128Patterns are the bar/space widths (in modules) of symbol values
// 0–106; 103–105 are Start A/B/C, 106 is Stop (with its final bar).
var code128Patterns = [107]string{
	"212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212", "221213",
	"221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221", "223211", "221132",
	"221231", "213212", "223112", "312131", "311222", "321122", "321221", "312212", "322112", "322211",
	"212123", "212321", "232121", "111323", "131123", "131321", "112313", "132113", "132311", "211313",
	"231113", "231311", "112133", "112331", "132131", "113123", "113321", "133121", "313121", "211331",
	"231131", "213113", "213311", "213131", "311123", "311321", "331121", "312113", "312311", "332111",
	"314111", "221411", "431111", "111224", "111422", "121124", "121421", "141122", "141221", "112214",
	"112412", "122114", "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111",
	"111242", "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
	"214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311", "113141",
	"114131", "311141", "411131", "211412", "211214", "211232", "2331112",
}

// Code 128 special symbol values.
const (
	c128CodeC  = 99
	c128CodeB  = 100
	c128StartB = 104
	c128StartC = 105
	c128Stop   = 106
)

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// digitRun returns how many digits start at s[i:].
func digitRun(s string, i int) int {
	n := 0
	for i+n < len(s) && isDigit(s[i+n]) {
		n++
	}
	return n
}

// Code128Values returns the symbol values for s: start symbol, data, check
// symbol and stop. Digit runs use code set C (two digits a symbol) where
// that is shorter: a run of 4 or more at the start or end of s, or of 6 or
// more in the middle; an odd run leaves its first digit in set B.
// Characters outside ASCII 32–126 are an error.
func Code128Values(s string) ([]int, error) {
	if s == "" {
		return nil, fmt.Errorf("code 128: nothing to encode")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 32 || s[i] > 126 {
			return nil, fmt.Errorf("code 128: byte %d (%q) is not printable ASCII", i, s[i])
		}
	}
	var vals []int
	useC := func(i int) bool {
		n := digitRun(s, i)
		atEdge := i == 0 || i+n == len(s)
		return n >= 4 && (atEdge || n >= 6) || i == 0 && n == len(s) && n == 2
	}
	set := 0 // 'B' or 'C'
	i := 0
	if useC(0) && digitRun(s, 0)%2 == 0 {
		vals, set = append(vals, c128StartC), 'C'
	} else {
		vals, set = append(vals, c128StartB), 'B'
	}
	for i < len(s) {
		if set == 'C' {
			if digitRun(s, i) >= 2 {
				vals = append(vals, int(s[i]-'0')*10+int(s[i+1]-'0'))
				i += 2
				continue
			}
			vals, set = append(vals, c128CodeB), 'B'
		}
		if n := digitRun(s, i); n > 0 && useC(i) {
			if n%2 == 1 { // the odd digit out goes in set B
				vals = append(vals, int(s[i])-32)
				i++
			}
			vals, set = append(vals, c128CodeC), 'C'
			continue
		}
		vals = append(vals, int(s[i])-32)
		i++
	}
	sum := vals[0]
	for k, v := range vals[1:] {
		sum += (k + 1) * v
	}
	return append(vals, sum%103, c128Stop), nil
}

// Code128Modules returns the bars of s as a string of '1' (bar) and '0'
// (space) modules, without quiet zones.
func Code128Modules(s string) (string, error) {
	vals, err := Code128Values(s)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, v := range vals {
		bar := true
		for _, w := range code128Patterns[v] {
			ch := "0"
			if bar {
				ch = "1"
			}
			b.WriteString(strings.Repeat(ch, int(w-'0')))
			bar = !bar
		}
	}
	return b.String(), nil
}
