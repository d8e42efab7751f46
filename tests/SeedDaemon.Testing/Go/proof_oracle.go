// An independent verifier of seedd's proof bundles and consistency proofs, on Go's own
// golang.org/x/mod/sumdb/note (signed notes) and golang.org/x/mod/sumdb/tlog (RFC 6962/9162 trees),
// Debian's golang-golang-x-mod-dev. Reads commands on stdin, one a line, answers one line each:
//
//	bundle VKEY FILE                         "ok ORIGIN INDEX SIZE" when the bundle at FILE verifies, else why
//	consistency VKEY OLDNOTE64 NEWNOTE64 P   "ok" when the consistency proof P (comma-separated base64) leads
//	                                         from the old signed checkpoint to the new one, else why
//
// A checkpoint is C2SP tlog-checkpoint text: origin, tree size, base64 root hash, one a line.
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type bundle struct {
	Entry      []byte   `json:"entry"`
	Index      int64    `json:"index"`
	TreeSize   int64    `json:"tree_size"`
	AuditPath  [][]byte `json:"audit_path"`
	Checkpoint string   `json:"checkpoint"`
}

type checkpoint struct {
	origin string
	size   int64
	root   tlog.Hash
}

func open(vkey, msg string) (checkpoint, error) {
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return checkpoint{}, err
	}
	n, err := note.Open([]byte(msg), note.VerifierList(verifier))
	if err != nil {
		return checkpoint{}, err
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 {
		return checkpoint{}, errors.New("not a checkpoint")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		return checkpoint{}, err
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return checkpoint{}, errors.New("bad root hash")
	}
	var h tlog.Hash
	copy(h[:], root)
	return checkpoint{lines[0], size, h}, nil
}

func hashes(list [][]byte) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(list))
	for i, b := range list {
		if len(b) != tlog.HashSize {
			return nil, errors.New("a proof hash is not 32 bytes")
		}
		copy(out[i][:], b)
	}
	return out, nil
}

func checkBundle(vkey, file string) (string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	var b bundle
	if err := json.Unmarshal(data, &b); err != nil {
		return "", err
	}
	c, err := open(vkey, b.Checkpoint)
	if err != nil {
		return "", err
	}
	if c.size != b.TreeSize {
		return "", errors.New("tree_size differs from the checkpoint's")
	}
	path, err := hashes(b.AuditPath)
	if err != nil {
		return "", err
	}
	if err := tlog.CheckRecord(tlog.RecordProof(path), c.size, c.root, b.Index, tlog.RecordHash(b.Entry)); err != nil {
		return "", err
	}
	return fmt.Sprintf("ok %s %d %d", c.origin, b.Index, c.size), nil
}

func checkConsistency(vkey, old64, new64, proof string) error {
	oldNote, _ := base64.StdEncoding.DecodeString(old64)
	newNote, _ := base64.StdEncoding.DecodeString(new64)
	o, err := open(vkey, string(oldNote))
	if err != nil {
		return err
	}
	n, err := open(vkey, string(newNote))
	if err != nil {
		return err
	}
	if o.origin != n.origin {
		return errors.New("the checkpoints are of different logs")
	}
	var list [][]byte
	for _, p := range strings.Split(proof, ",") {
		if p == "" {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(p)
		if err != nil {
			return err
		}
		list = append(list, b)
	}
	path, err := hashes(list)
	if err != nil {
		return err
	}
	return tlog.CheckTree(tlog.TreeProof(path), n.size, n.root, o.size, o.root)
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<24)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		f := strings.Fields(in.Text())
		switch f[0] {
		case "bundle":
			answer, err := checkBundle(f[1], f[2])
			if err != nil {
				answer = "error: " + err.Error()
			}
			fmt.Fprintln(out, answer)
		case "consistency":
			proof := ""
			if len(f) > 4 {
				proof = f[4]
			}
			if err := checkConsistency(f[1], f[2], f[3], proof); err != nil {
				fmt.Fprintln(out, "error: "+err.Error())
			} else {
				fmt.Fprintln(out, "ok")
			}
		default:
			fmt.Fprintln(out, "error: unknown command "+f[0])
		}
	}
}
