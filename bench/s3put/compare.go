package main

import (
	"fmt"
	"slices"
	"strings"
)

// compare runs the two modes alternately (direct, store, store, direct,
// ...: each pair in the other order than the last, so neither always goes
// first) and prints every run, the medians and the median ratio. ok is
// false when the ratio is above c.maxRatio.
func compare(c config) (ok bool, err error) {
	fmt.Printf("load average before: %s\n", loadavg())
	var direct, store []result
	var ratios []float64
	for i := range c.runs {
		order := []string{"direct", "store"}
		if i%2 == 1 {
			order = []string{"store", "direct"}
		}
		pair := map[string]result{}
		for _, mode := range order {
			r, err := child(c, mode)
			if err != nil {
				return false, err
			}
			r.print(false)
			pair[mode] = r
		}
		direct = append(direct, pair["direct"])
		store = append(store, pair["store"])
		ratios = append(ratios, pair["store"].Wall/pair["direct"].Wall)
	}
	fmt.Printf("load average after: %s\n", loadavg())
	summarize("direct", direct)
	summarize("store", store)
	ratio := median(ratios)
	fmt.Printf("wall ratio store/direct: median %.2f of %d pairs %s\n", ratio, len(ratios), fmtList(ratios))
	if c.maxRatio > 0 && ratio > c.maxRatio {
		fmt.Printf("FAIL: median ratio %.2f is above %.2f\n", ratio, c.maxRatio)
		return false, nil
	}
	return true, nil
}

func summarize(mode string, rs []result) {
	col := func(f func(result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		return median(v)
	}
	gib := float64(rs[0].Bytes) / (1 << 30)
	fmt.Printf("%-6s median: wall %.2f s, cpu %.2f s/GiB, server cpu %.2f s/GiB, peak rss %.1f MiB\n", mode,
		col(func(r result) float64 { return r.Wall }),
		col(func(r result) float64 { return r.CPU })/gib,
		col(func(r result) float64 { return r.ServerCPU })/gib,
		col(func(r result) float64 { return r.PeakRSS }))
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func fmtList(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprintf("%.2f", x)
	}
	return "[" + strings.Join(parts, " ") + "]"
}
