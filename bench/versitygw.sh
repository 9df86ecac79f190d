# Sourced by bench/run.sh and bench/soak.sh: versitygw_bin prints the path
# of versitygw, the S3 server, building it once from the Go module proxy
# (where scripts/test.sh puts it) when it is not there yet.
versitygw_bin() {
	local vgw
	vgw=$(command -v versitygw || true)
	if [ -z "$vgw" ]; then
		vgw="$(go env GOBIN)"
		vgw="${vgw:-$(go env GOPATH | cut -d: -f1)/bin}/versitygw"
		if [ ! -x "$vgw" ]; then
			echo "building versitygw v1.8.0 into $vgw (about a minute)" >&2
			go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
		fi
	fi
	echo "$vgw"
}
