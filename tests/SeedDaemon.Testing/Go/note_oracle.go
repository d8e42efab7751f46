// An independent oracle for seedd's signed notes: Go's golang.org/x/mod/sumdb/note (Debian's
// golang-golang-x-mod-dev). Reads commands on stdin, one a line, answers one line each:
//
//	generate NAME        a new key: "SKEY VKEY"
//	sign SKEY TEXT64     the note signing the text (base64) with the signer key, base64
//	open VKEY NOTE64     "ok TEXT64" when the note (base64) opens with the verifier key, else the error
package main

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<24)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		f := strings.Fields(in.Text())
		switch f[0] {
		case "generate":
			skey, vkey, err := note.GenerateKey(rand.Reader, f[1])
			if err != nil {
				panic(err)
			}
			fmt.Fprintln(out, skey, vkey)
		case "sign":
			signer, err := note.NewSigner(f[1])
			if err != nil {
				fmt.Fprintln(out, "error:", err)
				continue
			}
			text, _ := base64.StdEncoding.DecodeString(f[2])
			msg, err := note.Sign(&note.Note{Text: string(text)}, signer)
			if err != nil {
				fmt.Fprintln(out, "error:", err)
				continue
			}
			fmt.Fprintln(out, base64.StdEncoding.EncodeToString(msg))
		case "open":
			verifier, err := note.NewVerifier(f[1])
			if err != nil {
				fmt.Fprintln(out, "error:", err)
				continue
			}
			msg, _ := base64.StdEncoding.DecodeString(f[2])
			n, err := note.Open(msg, note.VerifierList(verifier))
			if err != nil {
				fmt.Fprintln(out, "error:", err)
				continue
			}
			fmt.Fprintln(out, "ok", base64.StdEncoding.EncodeToString([]byte(n.Text)))
		}
	}
}
