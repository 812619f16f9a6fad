// Command go-s3 is an app's view of the sidecar from Go: aws-sdk-go-v2 with its default
// credential chain, configured by the environment only (AWS_CONTAINER_CREDENTIALS_FULL_URI +
// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE), doing S3 I/O against a store.
//
//	go-s3 <endpoint> <bucket> [stop-file]
//
// It creates the bucket, then runs rounds of PutObject, GetObject (bytes checked) and
// ListObjectsV2 (key checked): one round, or rounds until stop-file exists. It prints one JSON
// line per S3 call, {"op","ok","accessKeyId","error"}, with the access key the request was
// signed with, then one line naming the client, its module versions and the credential source.
// test/helpers/s3-clients.ts drives it; .ci/build-go-client.sh builds it.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

type call struct {
	Op          string  `json:"op"`
	Ok          bool    `json:"ok"`
	AccessKeyID *string `json:"accessKeyId"`
	Error       string  `json:"error,omitempty"`
}

type identity struct {
	Client           string `json:"client"`
	Version          string `json:"version"`
	CredentialSource string `json:"credentialSource"`
}

var credentialRe = regexp.MustCompile(`Credential=([^/]+)/`)

// signedWith records the access key of the last signed request. The middleware sits at the end
// of the Finalize step, after the SDK's signer, so it sees the Authorization header as sent.
type signedWith struct{ key *string }

func (s *signedWith) ID() string { return "StsSidecarRecordAccessKey" }

func (s *signedWith) HandleFinalize(
	ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler,
) (middleware.FinalizeOutput, middleware.Metadata, error) {
	if req, ok := in.Request.(*smithyhttp.Request); ok {
		if m := credentialRe.FindStringSubmatch(req.Header.Get("Authorization")); m != nil {
			key := m[1]
			s.key = &key
		}
	}
	return next.HandleFinalize(ctx, in)
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: go-s3 <endpoint> <bucket> [stop-file]")
		os.Exit(2)
	}
	endpoint, bucket := os.Args[1], os.Args[2]
	stopFile := ""
	if len(os.Args) > 3 {
		stopFile = os.Args[3]
	}
	ctx := context.Background()
	out := json.NewEncoder(os.Stdout)

	// Default chain, region from AWS_REGION; nothing else is passed in.
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-s3: loading the default config:", err)
		os.Exit(1)
	}
	recorder := &signedWith{}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.UsePathStyle = true
		// No SDK retries: a failed S3 call must show up as failed, not be retried away.
		o.RetryMaxAttempts = 1
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Finalize.Add(recorder, middleware.After)
		})
	})

	do := func(op string, fn func() error) {
		recorder.key = nil
		c := call{Op: op, Ok: true}
		if err := fn(); err != nil {
			c.Ok, c.Error = false, err.Error()
		}
		c.AccessKeyID = recorder.key
		_ = out.Encode(c)
	}

	do("CreateBucket", func() error {
		_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
		return err
	})
	for round := 0; ; round++ {
		key := fmt.Sprintf("go-%d.txt", round)
		body := []byte(fmt.Sprintf("written by aws-sdk-go-v2, round %d", round))
		do("PutObject", func() error {
			_, err := client.PutObject(ctx, &s3.PutObjectInput{
				Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body),
			})
			return err
		})
		do("GetObject", func() error {
			got, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
			if err != nil {
				return err
			}
			defer got.Body.Close()
			read, err := io.ReadAll(got.Body)
			if err != nil {
				return err
			}
			if !bytes.Equal(read, body) {
				return fmt.Errorf("read back %q", read)
			}
			return nil
		})
		do("ListObjects", func() error {
			listed, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
			if err != nil {
				return err
			}
			for _, o := range listed.Contents {
				if aws.ToString(o.Key) == key {
					return nil
				}
			}
			return errors.New("the listing misses " + key)
		})
		if stopFile == "" {
			break
		}
		if _, err := os.Stat(stopFile); err == nil {
			break
		}
		time.Sleep(pace()) // client pacing while the test changes credentials underneath
	}

	source := ""
	if creds, err := cfg.Credentials.Retrieve(ctx); err == nil {
		source = creds.Source
	} else {
		source = "error: " + err.Error()
	}
	_ = out.Encode(identity{Client: "aws-sdk-go-v2", Version: moduleVersions(), CredentialSource: source})
}

// pace is the pause between rounds: S3_CLIENT_PACE_MS (the Kubernetes e2e runs clients for
// minutes and sets seconds), else 100 ms.
func pace() time.Duration {
	if ms, err := strconv.Atoi(os.Getenv("S3_CLIENT_PACE_MS")); err == nil && ms >= 0 {
		return time.Duration(ms) * time.Millisecond
	}
	return 100 * time.Millisecond
}

// moduleVersions lists the SDK modules this binary was built with, from its own build info.
func moduleVersions() string {
	want := map[string]string{
		"github.com/aws/aws-sdk-go-v2/service/s3": "service/s3",
		"github.com/aws/aws-sdk-go-v2/config":     "config",
		"github.com/aws/aws-sdk-go-v2":            "aws-sdk-go-v2",
	}
	found := map[string]string{}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if name, ok := want[dep.Path]; ok {
				found[name] = dep.Version
			}
		}
	}
	parts := []string{}
	for _, name := range []string{"service/s3", "config", "aws-sdk-go-v2"} {
		v := found[name]
		if v == "" {
			v = "unknown"
		}
		parts = append(parts, name+" "+v)
	}
	return strings.Join(parts, ", ") + ", " + runtime.Version()
}
