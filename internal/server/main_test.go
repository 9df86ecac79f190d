package server

import (
	"testing"

	"github.com/wharfhq/wharf/internal/testenv/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
