// Command ceiling is the benchmark's stack ceiling: stock net/http, one
// compare of the Authorization header, and the page bytes wharf renders,
// cached in memory (pre-compressed too). A registry on Go's HTTP server
// cannot answer faster, so wharf / ceiling is what wharf itself costs.
package main

import (
	"flag"
	"log"
	"net/http"
	_ "net/http/pprof" // on -pprof only: for comparing profiles with wharf's
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8099", "address to listen on")
	auth := flag.String("auth", "", "the exact Authorization header to accept")
	dir := flag.String("pages", ".", "directory holding index.json, index.html and their .gz")
	file := flag.String("file", "", "the large file, served for any path ending in .whl")
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof on this address")
	flag.Parse()
	if *pprofAddr != "" {
		go http.ListenAndServe(*pprofAddr, nil)
	}
	page := map[string][]byte{}
	for _, n := range []string{"index.json", "index.json.gz", "index.html", "index.html.gz"} {
		page[n], _ = os.ReadFile(*dir + "/" + n)
	}
	log.Fatal(http.ListenAndServe(*listen, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != *auth {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if strings.HasSuffix(r.URL.Path, ".whl") {
			f, err := os.Open(*file)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			defer f.Close()
			w.Header().Set("Content-Type", "application/octet-stream")
			http.ServeContent(w, r, "", time.Time{}, f) // *os.File: sendfile
			return
		}
		name, ct := "index.html", "text/html; charset=utf-8"
		if strings.Contains(r.Header.Get("Accept"), "json") {
			name, ct = "index.json", "application/vnd.pypi.simple.v1+json"
		}
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			name += ".gz"
			w.Header().Set("Content-Encoding", "gzip")
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Content-Length", strconv.Itoa(len(page[name])))
		w.Write(page[name])
	})))
}
