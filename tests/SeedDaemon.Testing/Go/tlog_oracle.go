// An independent oracle for seedd's Merkle tree: Go's golang.org/x/mod/sumdb/tlog (Debian's
// golang-golang-x-mod-dev), which implements the RFC 6962/9162 tree for Go's checksum database.
// Leaf i's entry is the text "entry <i>". Reads commands on stdin, one a line, answers one line each:
//
//	root N               the root of the first N leaves (base64)
//	prove I N            the inclusion proof of leaf I in the tree of N (base64 hashes, comma-separated)
//	consist M N          the consistency proof from M to N leaves
//	checkrecord I N P    "ok" when tlog accepts proof P (as above) of leaf I in the tree of N, else the error
//	checktree M N P      "ok" when tlog accepts consistency proof P from M to N, else the error
package main

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

type memory []tlog.Hash

func (m memory) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		out[i] = m[x]
	}
	return out, nil
}

func encode(hashes []tlog.Hash) string {
	if len(hashes) == 0 {
		return "-"
	}
	parts := make([]string, len(hashes))
	for i, h := range hashes {
		parts[i] = base64.StdEncoding.EncodeToString(h[:])
	}
	return strings.Join(parts, ",")
}

func decode(text string) []tlog.Hash {
	if text == "" || text == "-" {
		return nil
	}
	var hashes []tlog.Hash
	for _, part := range strings.Split(text, ",") {
		raw, err := base64.StdEncoding.DecodeString(part)
		if err != nil || len(raw) != tlog.HashSize {
			panic("bad hash " + part)
		}
		var h tlog.Hash
		copy(h[:], raw)
		hashes = append(hashes, h)
	}
	return hashes
}

func main() {
	var stored memory
	leaves := int64(0)
	grow := func(n int64) {
		for ; leaves < n; leaves++ {
			hashes, err := tlog.StoredHashes(leaves, []byte(fmt.Sprintf("entry %d", leaves)), stored)
			if err != nil {
				panic(err)
			}
			stored = append(stored, hashes...)
		}
	}
	number := func(s string) int64 {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			panic(err)
		}
		return v
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<24)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		f := strings.Fields(in.Text())
		switch f[0] {
		case "root":
			n := number(f[1])
			grow(n)
			h, err := tlog.TreeHash(n, stored)
			if err != nil {
				panic(err)
			}
			fmt.Fprintln(out, base64.StdEncoding.EncodeToString(h[:]))
		case "prove":
			i, n := number(f[1]), number(f[2])
			grow(n)
			p, err := tlog.ProveRecord(n, i, stored)
			if err != nil {
				panic(err)
			}
			fmt.Fprintln(out, encode(p))
		case "consist":
			m, n := number(f[1]), number(f[2])
			grow(n)
			p, err := tlog.ProveTree(n, m, stored)
			if err != nil {
				panic(err)
			}
			fmt.Fprintln(out, encode(p))
		case "checkrecord", "checktree":
			a, n := number(f[1]), number(f[2])
			grow(n)
			proof := ""
			if len(f) > 3 {
				proof = f[3]
			}
			th, _ := tlog.TreeHash(n, stored)
			var err error
			if f[0] == "checkrecord" {
				err = tlog.CheckRecord(decode(proof), n, th, a, tlog.RecordHash([]byte(fmt.Sprintf("entry %d", a))))
			} else {
				old, _ := tlog.TreeHash(a, stored)
				err = tlog.CheckTree(decode(proof), n, th, a, old)
			}
			if err != nil {
				fmt.Fprintln(out, err.Error())
			} else {
				fmt.Fprintln(out, "ok")
			}
		}
	}
}
