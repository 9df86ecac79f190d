package main

// The second wharf of the wrk table: wharf on PostgreSQL and S3, the
// backends of an installation with several replicas. The harness starts a
// throwaway PostgreSQL (Debian's binaries, default settings) and versitygw
// (an S3 server, posix backend) in the scratch directory, then `wharf serve`
// with WHARF_STORE and WHARF_BLOB pointing at them, and loads the same
// wheels into it.

import (
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"
	"github.com/wharfhq/wharf/internal/testenv/s3test"
)

const (
	s3Bucket    = "wharf-bench"
	s3AccessKey = "wharfbenchs3key"
	s3SecretKey = "wharfBenchS3SecretKey0000000000000000000"
)

// pgs3Stack is wharf on PostgreSQL + versitygw, and those two servers.
type pgs3Stack struct {
	wharf              *wharfInst
	postgres           *proc
	versitygw          *proc
	pgVersion, vgwVers string
	pprofAddr          string // wharf's WHARF_PPROF listener, with -cpuprofile
}

// startPGS3 starts PostgreSQL, versitygw and a wharf on them, loads the
// data into it and adds it to the servers of the wrk table.
func (h *harness) startPGS3() error {
	pgBin, err := postgresBin()
	if err != nil {
		return err
	}
	vgw, err := versitygwPath()
	if err != nil {
		return err
	}
	st := &pgs3Stack{}
	dsn, err := st.startPostgres(h, pgBin)
	if err != nil {
		return err
	}
	blobURL, err := st.startVersitygw(h, vgw)
	if err != nil {
		return err
	}
	env := []string{"WHARF_STORE=" + dsn, "WHARF_BLOB=" + blobURL,
		"WHARF_S3_ACCESS_KEY_ID=" + s3AccessKey, "WHARF_S3_SECRET_ACCESS_KEY=" + s3SecretKey}
	if *pprofOut != "" || *soakFor > 0 {
		st.pprofAddr = freeAddr()
		env = append(env, "WHARF_PPROF="+st.pprofAddr)
	}
	w, err := h.newWharf("wharf-pg-s3", filepath.Join(h.dir, "wharf-pg-s3-data"), env)
	if err != nil {
		return err
	}
	st.wharf = w
	h.pgs3 = st
	if err := h.loadInto(w); err != nil {
		return err
	}
	h.wharfPG = endpoint{name: "wharf (PostgreSQL + S3)", backend: "PostgreSQL + S3", auth: w.auth, pgid: w.pid,
		backing:  []backing{{"PostgreSQL", st.postgres.pid}, {"versitygw", st.versitygw.pid}},
		page:     w.ep + "simple/" + project + "/",
		download: w.ep + "simple/" + bigProject + "/1.0/" + bigWheelName(),
	}
	h.wharfPG.jsonPage, h.wharfPG.htmlPage = h.wharfPG.page, h.wharfPG.page
	return nil
}

// stop ends the wharf, then PostgreSQL and versitygw.
func (st *pgs3Stack) stop() {
	st.wharf.stop()
	stopProcs([]*proc{st.postgres, st.versitygw})
	log.Printf("stopped wharf (PostgreSQL + S3), PostgreSQL and versitygw")
}

// describe names the versions, for the table's note.
func (st *pgs3Stack) describe() string {
	return fmt.Sprintf("PostgreSQL %s, default settings, and versitygw %s, posix backend, both on loopback with their data in the scratch directory", st.pgVersion, st.vgwVers)
}

// postgresBin returns the bin directory of the newest PostgreSQL installed
// from Debian's packages.
func postgresBin() (string, error) {
	initdbs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(initdbs) == 0 {
		return "", errors.New("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb): apt-get install postgresql (bench/run.sh does)")
	}
	version := func(p string) int { n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(p)))); return n }
	return filepath.Dir(slices.MaxFunc(initdbs, func(a, b string) int { return version(a) - version(b) })), nil
}

// versitygwPath finds versitygw: -versitygw, else where s3test looks
// (PATH, $GOBIN, $GOPATH/bin).
func versitygwPath() (string, error) {
	if *vgwBin != "" {
		return *vgwBin, nil
	}
	return s3test.FindBinary()
}

// startPostgres initializes a cluster in the scratch directory, starts it
// on a free loopback port, creates the database "wharf" and returns its DSN.
// PostgreSQL refuses to run as root: as root, it runs as the "postgres"
// user Debian's package creates.
func (st *pgs3Stack) startPostgres(h *harness, bin string) (string, error) {
	dir := filepath.Join(h.dir, "postgres")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", err
	}
	cred, err := postgresUser(h.dir, dir)
	if err != nil {
		return "", err
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--no-locale", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return "", fmt.Errorf("initdb: %w\n%s", err, out)
	}
	_, port, _ := strings.Cut(freeAddr(), ":")
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", port, "-k", dir,
		"-c", "listen_addresses=127.0.0.1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if st.postgres, err = h.launch("postgres", cmd, true); err != nil {
		return "", err
	}
	admin := "postgres://postgres@127.0.0.1:" + port + "/postgres?sslmode=disable"
	conn, err := waitPostgres(admin, st.postgres, filepath.Join(h.dir, "postgres.log"))
	if err != nil {
		return "", err
	}
	ctx := context.Background()
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE wharf"); err != nil {
		return "", err
	}
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&st.pgVersion); err != nil {
		return "", err
	}
	log.Printf("PostgreSQL %s on 127.0.0.1:%s (pid %d)", st.pgVersion, port, st.postgres.pid)
	return "postgres://postgres@127.0.0.1:" + port + "/wharf?sslmode=disable", nil
}

// postgresUser returns whom PostgreSQL runs as: nil (ourselves), or when
// we are root the "postgres" user, who then owns dir and may pass through
// the scratch directory to it.
func postgresUser(scratch, dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL needs an unprivileged user: %w (apt-get install postgresql creates the postgres user)", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, err
	}
	fi, err := os.Stat(scratch)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(scratch, fi.Mode().Perm()|0o011); err != nil { // search, not list
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// waitPostgres connects to PostgreSQL once it accepts connections.
func waitPostgres(dsn string, p *proc, logPath string) (*pgx.Conn, error) {
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, dsn)
		cancel()
		if err == nil {
			return conn, nil
		}
		select {
		case <-p.exited:
			out, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("postgres exited at start:\n%s", out)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("postgres did not accept connections within a minute: %v\n%s", err, out)
		}
	}
}

// startVersitygw starts versitygw over a directory in the scratch directory
// with fixed root credentials, creates the bucket and returns wharf's blob
// URL for it.
func (st *pgs3Stack) startVersitygw(h *harness, bin string) (string, error) {
	dir := filepath.Join(h.dir, "versitygw")
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return "", err
	}
	st.vgwVers = "(unknown version)"
	if bi, err := buildinfo.ReadFile(bin); err == nil {
		st.vgwVers = bi.Main.Version
	}
	addr := freeAddr()
	cmd := exec.Command(bin, "--port", addr, "--quiet", "posix", data)
	// Only what versitygw needs: it reads many VGW_* variables.
	cmd.Env = []string{"ROOT_ACCESS_KEY=" + s3AccessKey, "ROOT_SECRET_KEY=" + s3SecretKey, "HOME=" + dir}
	p, err := h.launch("versitygw", cmd, false)
	if err != nil {
		return "", err
	}
	st.versitygw = p
	endpoint := "http://" + addr
	client := s3.New(s3.Options{
		BaseEndpoint: aws.String(endpoint),
		Region:       "us-east-1",
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s3AccessKey, s3SecretKey, ""),
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s3Bucket)})
		cancel()
		if err == nil {
			break
		}
		select {
		case <-p.exited:
			out, _ := os.ReadFile(filepath.Join(h.dir, "versitygw.log"))
			return "", fmt.Errorf("versitygw exited at start:\n%s", out)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("versitygw on %s: cannot create bucket %s within 30s: %w", addr, s3Bucket, err)
		}
	}
	log.Printf("versitygw %s on %s (pid %d), bucket %s", st.vgwVers, addr, p.pid, s3Bucket)
	return "s3://" + s3Bucket + "?endpoint=" + endpoint + "&region=us-east-1&use_path_style=true", nil
}
