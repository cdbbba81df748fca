package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3-compatible file store (AWS S3, MinIO, and the like) through
// minio-go: one module with few dependencies, against the AWS SDK's dozen
// modules for the same four calls; it speaks to any S3-compatible server.

// s3Config is a parsed --files s3://bucket[/prefix]?endpoint=&region=&tls=.
type s3Config struct {
	bucket, prefix   string
	endpoint, region string
	secure           bool
	accessKey        string
	secretKey        string
}

func parseS3(spec string) (s3Config, error) {
	u, err := url.Parse(spec)
	if err != nil || !strings.EqualFold(u.Scheme, "s3") || u.Host == "" {
		return s3Config{}, fmt.Errorf("--files must be s3://bucket[/prefix]?endpoint=host:port&region=R (or empty for files in the database), not %q", spec)
	}
	if u.User != nil {
		return s3Config{}, errors.New("--files must not hold keys: set ONEDESK_S3_ACCESS_KEY and ONEDESK_S3_SECRET_KEY instead")
	}
	q := u.Query()
	cfg := s3Config{bucket: u.Host, prefix: strings.Trim(u.Path, "/"), endpoint: q.Get("endpoint"), region: q.Get("region"), secure: true}
	if cfg.endpoint == "" {
		cfg.endpoint = "s3.amazonaws.com"
	}
	if strings.Contains(cfg.endpoint, "://") {
		return s3Config{}, fmt.Errorf("--files: endpoint is host:port, without a scheme (use tls=false for plain HTTP), not %q", cfg.endpoint)
	}
	if v := q.Get("tls"); v != "" {
		if cfg.secure, err = strconv.ParseBool(v); err != nil {
			return s3Config{}, fmt.Errorf("--files: tls must be true or false, not %q", v)
		}
	}
	for k := range q {
		if k != "endpoint" && k != "region" && k != "tls" {
			return s3Config{}, fmt.Errorf("--files: unknown setting %q (known: endpoint, region, tls)", k)
		}
	}
	cfg.accessKey, cfg.secretKey = os.Getenv("ONEDESK_S3_ACCESS_KEY"), os.Getenv("ONEDESK_S3_SECRET_KEY")
	if cfg.accessKey == "" {
		cfg.accessKey, cfg.secretKey = os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	}
	if cfg.accessKey == "" || cfg.secretKey == "" {
		return s3Config{}, errors.New("--files s3://... needs the store's keys in ONEDESK_S3_ACCESS_KEY and ONEDESK_S3_SECRET_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
	}
	return cfg, nil
}

type s3Store struct {
	c   *minio.Client
	cfg s3Config
}

func openS3(ctx context.Context, cfg s3Config) (*s3Store, error) {
	c, err := minio.New(cfg.endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.accessKey, cfg.secretKey, ""),
		Secure: cfg.secure,
		Region: cfg.region,
	})
	if err != nil {
		return nil, fmt.Errorf("file store %s: %w", cfg.endpoint, err)
	}
	s := &s3Store{c: c, cfg: cfg}
	ok, err := c.BucketExists(ctx, cfg.bucket)
	if err != nil {
		return nil, fmt.Errorf("file store %s: %w", s, err)
	}
	if !ok {
		return nil, fmt.Errorf("file store %s: the bucket %s does not exist: create it first (MinIO: mc mb ALIAS/%s)", s, cfg.bucket, cfg.bucket)
	}
	return s, nil
}

func (s *s3Store) String() string {
	scheme := "https"
	if !s.cfg.secure {
		scheme = "http"
	}
	return "s3://" + path.Join(s.cfg.bucket, s.cfg.prefix) + " at " + scheme + "://" + s.cfg.endpoint
}

func (s *s3Store) key(sha string) string { return path.Join(s.cfg.prefix, sha) }

func (s *s3Store) put(ctx context.Context, sha string, r io.Reader, size int64) error {
	_, err := s.c.PutObject(ctx, s.cfg.bucket, s.key(sha), r, size, minio.PutObjectOptions{ContentType: "application/octet-stream"})
	return err
}

func (s *s3Store) open(ctx context.Context, sha string) (io.ReadCloser, error) {
	obj, err := s.c.GetObject(ctx, s.cfg.bucket, s.key(sha), minio.GetObjectOptions{})
	if err != nil {
		return nil, err
	}
	// GetObject asks nothing until the first read: ask now, so a missing
	// object is an error here rather than mid-copy.
	if _, err := obj.Stat(); err != nil {
		obj.Close()
		return nil, err
	}
	return obj, nil
}

func (s *s3Store) remove(ctx context.Context, sha string) error {
	// S3 answers a delete of a missing key with success.
	return s.c.RemoveObject(ctx, s.cfg.bucket, s.key(sha), minio.RemoveObjectOptions{})
}

func (s *s3Store) has(ctx context.Context, sha string) (bool, error) {
	_, err := s.c.StatObject(ctx, s.cfg.bucket, s.key(sha), minio.StatObjectOptions{})
	if err == nil {
		return true, nil
	}
	if minio.ToErrorResponse(err).Code == minio.NoSuchKey || minio.ToErrorResponse(err).StatusCode == 404 {
		return false, nil
	}
	return false, err
}
