package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wharfhq/wharf/internal/store"
)

const (
	benchOwner, benchDomain, benchRepo = "123456789012", "bench", "bench"
	benchProjects, benchFiles          = 10000, 10
)

// BenchmarkPageMiss measures the store's share of a PyPI project page that
// misses the page cache: the queries the registry makes for a random project
// of 10,000 (10 versions of one file each, as bench/scalegen writes them).
// The sequence is today's registry's: GetRepository in packageKey, in
// searchOrder's check and in its visit; GetDomain and ListPackageGroups for
// the package-group gate; then the package, its versions and its assets.
func BenchmarkPageMiss(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	miss := func(rnd *rand.Rand) error {
		k := store.PackageKey{DomainOwner: benchOwner, DomainName: benchDomain, Repository: benchRepo,
			Format: "pypi", Name: benchProject(rnd.IntN(benchProjects))}
		for range 3 {
			if _, err := s.GetRepository(ctx, benchOwner, benchDomain, benchRepo); err != nil {
				return err
			}
		}
		if _, err := s.GetDomain(ctx, benchOwner, benchDomain); err != nil {
			return err
		}
		if _, _, err := s.ListPackageGroups(ctx, benchOwner, benchDomain, store.Page{Limit: 1000}); err != nil {
			return err
		}
		if _, err := s.GetPackage(ctx, k); err != nil {
			return err
		}
		vs, err := s.ListVersions(ctx, k)
		if err != nil {
			return err
		}
		as, err := s.ListPackageAssets(ctx, k)
		if err != nil {
			return err
		}
		if len(vs) != benchFiles || len(as) != benchFiles {
			return fmt.Errorf("%s: %d versions, %d assets", k.Name, len(vs), len(as))
		}
		return nil
	}
	b.Run("serial", func(b *testing.B) {
		rnd := rand.New(rand.NewPCG(1, 2))
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			if err := miss(rnd); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Two goroutines per GOMAXPROCS: four requests at once on the 2-core
	// machine of bench/README.md, as its wrk -c4 sends them.
	b.Run("parallel", func(b *testing.B) {
		b.SetParallelism(2)
		b.ReportAllocs()
		defer reportCPU(b)()
		var seed atomic.Uint64
		b.RunParallel(func(pb *testing.PB) {
			rnd := rand.New(rand.NewPCG(seed.Add(1), 2))
			for pb.Next() {
				if err := miss(rnd); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkAddAsset: one published file (a new version; a new package every
// benchFiles files), the unit of bench/scalegen and of publishing; with
// durable commits (FULL, the default: an fsync of the WAL per commit) and
// with NORMAL (fsync at checkpoints only), to show what durability costs.
func BenchmarkAddAsset(b *testing.B) {
	for _, sync := range []Synchronous{SyncFull, SyncNormal} {
		b.Run("sync="+string(sync), func(b *testing.B) {
			s, err := OpenSync(filepath.Join(b.TempDir(), "wharf.db"), sync)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			now := time.Now().UTC()
			if err := benchRepository(ctx, s, now); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			defer reportCPU(b)()
			i := 0
			for b.Loop() {
				if err := addBenchAsset(ctx, s, i/benchFiles, i%benchFiles, now); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// reportCPU reports the process's CPU time (user and system) per operation
// when the returned function runs: on a machine shared with other work it
// is steadier than ns/op, the wall time.
func reportCPU(b *testing.B) func() {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	return func() { b.ReportMetric(float64(cpu()-start)/float64(b.N), "cpu-ns/op") }
}

func benchProject(i int) string { return fmt.Sprintf("project-%05d", i) }

// benchStore writes benchProjects × benchFiles through AddAsset, one
// transaction per file as publishing does.
func benchStore(b *testing.B) *Store {
	b.Helper()
	s, err := Open(filepath.Join(b.TempDir(), "wharf.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	ctx := context.Background()
	now := time.Now().UTC()
	if err := benchRepository(ctx, s, now); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	for i := range benchProjects {
		for j := range benchFiles {
			if err := addBenchAsset(ctx, s, i, j, now); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Logf("%d projects × %d files written in %s", benchProjects, benchFiles, time.Since(start).Round(time.Millisecond))
	return s
}

func benchRepository(ctx context.Context, s *Store, now time.Time) error {
	if err := s.CreateDomain(ctx, store.Domain{Owner: benchOwner, Name: benchDomain, CreatedAt: now}); err != nil {
		return err
	}
	if err := s.CreateRepository(ctx, store.Repository{DomainOwner: benchOwner, DomainName: benchDomain, Name: benchRepo,
		ExternalConnections: []string{}, Upstreams: []string{}, CreatedAt: now}); err != nil {
		return err
	}
	return s.CreatePackageGroup(ctx, store.PackageGroup{DomainOwner: benchOwner, DomainName: benchDomain, Pattern: "/*", CreatedAt: now})
}

// addBenchAsset adds file j (of version 1.0.j) of project i, with
// attributes the size of a typical wheel's.
func addBenchAsset(ctx context.Context, s *Store, i, j int, now time.Time) error {
	name := benchProject(i)
	k := store.PackageKey{DomainOwner: benchOwner, DomainName: benchDomain, Repository: benchRepo, Format: "pypi", Name: name}
	pkg := store.Package{PackageKey: k, DisplayName: name, OriginPublish: "ALLOW", OriginUpstream: "BLOCK", CreatedAt: now}
	ver := fmt.Sprintf("1.0.%d", j)
	v := store.PackageVersion{VersionKey: store.VersionKey{PackageKey: k, Version: ver}, DisplayVersion: ver,
		Status: "Published", Revision: fmt.Sprintf("r%d-%d", i, j), OriginType: "INTERNAL", OriginRepository: benchRepo,
		Summary: "A project of the benchmark", Licenses: []string{"MIT"},
		Attributes:  map[string]string{"requires_python": ">=3.9", "requires_dist": `["requests>=2"]`},
		PublishedAt: now, UpdatedAt: now}
	a := store.Asset{VersionKey: v.VersionKey, Name: fmt.Sprintf("%s-%s-py3-none-any.whl", name, ver), Size: 12345,
		SHA256: fmt.Sprintf("%064x", i*benchFiles+j), SHA512: "0", SHA1: "0", MD5: "0",
		Attributes: map[string]string{"core_metadata_sha256": fmt.Sprintf("%064x", i), "requires_python": ">=3.9"},
		CreatedAt:  now}
	_, err := s.AddAsset(ctx, pkg, v, a)
	return err
}
