package main

import (
	"fmt"
	"net/http"
	"net/http/pprof"
	"os"
)

// WHARF_PPROF=127.0.0.1:6060 serves Go's profiler on its own listener, for
// bench/ (go tool pprof http://127.0.0.1:6060/debug/pprof/profile). It is
// opt-in and never on the public listener: profiles reveal internals.
func init() {
	addr := os.Getenv("WHARF_PPROF")
	if addr == "" {
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	go func() {
		if err := http.ListenAndServe(addr, mux); err != nil {
			fmt.Fprintf(os.Stderr, "WHARF_PPROF: %v\n", err)
		}
	}()
}
