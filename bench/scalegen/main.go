// Command scalegen writes many projects straight into a wharf SQLite
// database through the store API (store.AddAsset), for the metadata-scale
// workload (bench/README.md). Blobs are fake: a project page needs only
// metadata. Each version copies the attributes (PEP 658 sidecar, Requires-
// Python, ...) of a template version uploaded through wharf, so the pages
// render as real ones would.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"maps"
	"time"

	"github.com/wharfhq/wharf/internal/store"
	"github.com/wharfhq/wharf/internal/store/sqlite"
)

func main() {
	db := flag.String("db", "", "wharf's SQLite database (DATA_DIR/wharf.db); wharf should not be running")
	owner := flag.String("owner", "123456789012", "domain owner")
	domain := flag.String("domain", "bench", "domain")
	repo := flag.String("repo", "bench", "repository")
	tmpl := flag.String("template", "bench-project", "a pypi project already in the repository whose first version's attributes are copied")
	projects := flag.Int("projects", 100000, "projects to write")
	files := flag.Int("files", 10, "files (one per version) per project")
	prefix := flag.String("prefix", "scale-", "project name prefix")
	flag.Parse()
	ctx := context.Background()
	s, err := sqlite.Open(*db)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	tk := store.PackageKey{DomainOwner: *owner, DomainName: *domain, Repository: *repo, Format: "pypi", Name: *tmpl}
	vs, err := s.ListVersions(ctx, tk)
	if err != nil || len(vs) == 0 {
		log.Fatalf("template %s: %v (%d versions)", *tmpl, err, len(vs))
	}
	as, err := s.ListAssets(ctx, vs[0].VersionKey)
	if err != nil || len(as) == 0 {
		log.Fatalf("template assets: %v", err)
	}
	tv, ta := vs[0], as[0]
	start := time.Now()
	now := time.Now().UTC()
	for i := range *projects {
		name := fmt.Sprintf("%s%06d", *prefix, i)
		k := tk
		k.Name = name
		pkg := store.Package{PackageKey: k, DisplayName: name, OriginPublish: "ALLOW", OriginUpstream: "BLOCK", CreatedAt: now}
		for j := range *files {
			ver := fmt.Sprintf("1.0.%d", j)
			v := tv
			v.VersionKey = store.VersionKey{PackageKey: k, Version: ver}
			v.DisplayVersion = ver
			v.Revision = fmt.Sprintf("r%d-%d", i, j)
			v.Attributes = maps.Clone(tv.Attributes)
			v.PublishedAt, v.UpdatedAt = now, now
			a := ta
			a.VersionKey = v.VersionKey
			a.Name = fmt.Sprintf("scale_%06d-%s-py3-none-any.whl", i, ver)
			sum := sha256.Sum256([]byte(a.Name))
			a.SHA256 = hex.EncodeToString(sum[:]) // fake blob: never downloaded
			a.Attributes = maps.Clone(ta.Attributes)
			a.CreatedAt = now
			if _, err := s.AddAsset(ctx, pkg, v, a); err != nil {
				log.Fatalf("%s %s: %v", name, ver, err)
			}
		}
		if (i+1)%10000 == 0 {
			log.Printf("%d projects, %d files, %s", i+1, (i+1)**files, time.Since(start).Round(time.Second))
		}
	}
	log.Printf("wrote %d projects × %d files in %s", *projects, *files, time.Since(start).Round(time.Second))
}
