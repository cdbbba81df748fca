package metrics

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
)

var (
	metricName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelName  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// Parse reads the text exposition format strictly, as a scraper would,
// and returns each sample's value by its series, written
// `name{label="value",...}` with the labels in the order given. It
// refuses malformed lines, a TYPE after its family's samples or given
// twice, and a family whose samples are not together.
func Parse(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	types := map[string]string{}
	done := map[string]bool{} // families whose samples ended
	current := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		bad := func(why string) error { return fmt.Errorf("line %d %q: %s", n, line, why) }
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			f := strings.SplitN(line, " ", 4)
			if len(f) < 3 || (f[1] != "HELP" && f[1] != "TYPE") {
				continue // a plain comment
			}
			if !metricName.MatchString(f[2]) {
				return nil, bad("bad metric name")
			}
			if f[1] == "TYPE" {
				if len(f) != 4 || !strings.Contains(" counter gauge histogram summary untyped ", " "+f[3]+" ") {
					return nil, bad("bad type")
				}
				if _, ok := types[f[2]]; ok || done[f[2]] || current == f[2] {
					return nil, bad("TYPE given twice or after the samples")
				}
				types[f[2]] = f[3]
			}
			continue
		}
		name, labels, rest, err := splitSample(line)
		if err != nil {
			return nil, bad(err.Error())
		}
		family := name
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suffix); ok && (types[base] == "histogram" || types[base] == "summary") {
				family = base
			}
		}
		if family != current {
			if done[family] {
				return nil, bad("the family's samples are not together")
			}
			if current != "" {
				done[current] = true
			}
			current = family
		}
		fields := strings.Fields(rest)
		if len(fields) < 1 || len(fields) > 2 {
			return nil, bad("want a value and an optional timestamp")
		}
		v, err := parseValue(fields[0])
		if err != nil {
			return nil, bad("bad value")
		}
		if len(fields) == 2 {
			if _, err := strconv.ParseInt(fields[1], 10, 64); err != nil {
				return nil, bad("bad timestamp")
			}
		}
		series := name + labels
		if _, dup := out[series]; dup {
			return nil, bad("series given twice")
		}
		out[series] = v
	}
	return out, sc.Err()
}

func parseValue(s string) (float64, error) {
	switch s {
	case "+Inf":
		return math.Inf(1), nil
	case "-Inf":
		return math.Inf(-1), nil
	case "NaN":
		return math.NaN(), nil
	}
	return strconv.ParseFloat(s, 64)
}

// splitSample splits `name{a="x",b="y"} rest` into the name, the label
// part as written (validated) and the rest.
func splitSample(line string) (name, labels, rest string, err error) {
	end := strings.IndexAny(line, "{ ")
	if end < 0 {
		return "", "", "", fmt.Errorf("no value")
	}
	name = line[:end]
	if !metricName.MatchString(name) {
		return "", "", "", fmt.Errorf("bad metric name")
	}
	if line[end] == ' ' {
		return name, "", line[end+1:], nil
	}
	i := end + 1
	for {
		if i < len(line) && line[i] == '}' {
			i++
			break
		}
		eq := strings.IndexByte(line[i:], '=')
		if eq < 0 || !labelName.MatchString(line[i:i+eq]) {
			return "", "", "", fmt.Errorf("bad label name")
		}
		i += eq + 1
		if i >= len(line) || line[i] != '"' {
			return "", "", "", fmt.Errorf("label value not quoted")
		}
		i++
		for ; i < len(line) && line[i] != '"'; i++ {
			if line[i] == '\\' {
				if i+1 >= len(line) || !strings.ContainsRune(`\"n`, rune(line[i+1])) {
					return "", "", "", fmt.Errorf("bad escape in a label value")
				}
				i++
			}
		}
		if i >= len(line) {
			return "", "", "", fmt.Errorf("label value not closed")
		}
		i++
		if i < len(line) && line[i] == ',' {
			i++
		}
	}
	if i >= len(line) || line[i] != ' ' {
		return "", "", "", fmt.Errorf("no space before the value")
	}
	return name, line[end:i], line[i+1:], nil
}
