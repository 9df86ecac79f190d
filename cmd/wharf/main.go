package main
import (
 _ "modernc.org/sqlite"
 _ "golang.org/x/crypto/blake2b"
 _ "golang.org/x/sync/singleflight"
 _ "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)
func main(){}
