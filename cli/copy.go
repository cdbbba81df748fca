package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"onedesk/store"
)

// copyProgressEvery is how often `onedesk copy` says how far it is.
var copyProgressEvery = 3 * time.Second

// copyCmd is `onedesk copy --from SRC --to DST`: a whole desk moved from
// one database to another (SQLite to PostgreSQL, or back), files too,
// with the servers stopped.
func copyCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("copy", flag.ContinueOnError)
	from := fs.String("from", "", "the desk to copy: a SQLite file or postgres://user:password@host/db")
	to := fs.String("to", "", "where to copy it: an empty PostgreSQL database (postgres://...) or a new SQLite file")
	files := fs.String("files", "", "move the files into this S3-compatible store as they are copied: s3://bucket[/prefix]?endpoint=host:port&region=R (keys in ONEDESK_S3_ACCESS_KEY and ONEDESK_S3_SECRET_KEY)")
	fromFiles := fs.String("from-files", "", "the source desk's --files, if its files are in an S3-compatible store")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	switch {
	case *from == "" || *to == "":
		return errors.New("copy needs both --from and --to: onedesk copy --from onedesk.db --to postgres://user:password@host/db")
	case *from == *to:
		return errors.New("copy: --from and --to name the same database")
	}
	if err := store.CheckFiles(*files); err != nil {
		return err
	}
	if err := store.CheckFiles(*fromFiles); err != nil {
		return fmt.Errorf("--from-files: %w", err)
	}
	if !store.IsPostgres(*from) {
		if _, err := os.Stat(*from); err != nil {
			return fmt.Errorf("copy: there is no desk at %s (--from): %w", *from, err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := runCopy(ctx, *from, *to, *files, *fromFiles, stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "copied %d rows in %d tables in %s (%.0f rows a second)", res.Rows(), len(res.Tables),
		res.Elapsed.Round(time.Millisecond), float64(res.Rows())/max(res.Elapsed.Seconds(), 0.001))
	if *files != "" {
		fmt.Fprintf(stdout, ", and %d files (%s) into %s", res.Files, bytesText(res.FileBytes), *files)
	}
	if res.FixedTexts > 0 {
		fmt.Fprintf(stdout, "\n%d texts held bytes PostgreSQL cannot keep (a NUL byte, or bytes that are not UTF-8): they were copied with \uFFFD in their place", res.FixedTexts)
	}
	fmt.Fprintf(stdout, "\nchecked: every table has as many rows on both sides, and the same sums of ids, times and sizes\n")
	fmt.Fprintf(stdout, "start onedesk with --data %s", redactURL(*to))
	switch {
	case *files != "":
		fmt.Fprintf(stdout, " --files %s", *files)
	case *fromFiles != "":
		fmt.Fprintf(stdout, " --files %s", *fromFiles)
	case res.FilesOutside > 0:
		fmt.Fprintf(stdout, " and the --files the old desk ran with: %d of its files are kept there", res.FilesOutside)
	}
	fmt.Fprintln(stdout)
	return nil
}

// runCopy opens both desks (the target's migrations make its tables) and
// copies, saying how far it is every few seconds.
func runCopy(ctx context.Context, from, to, files, fromFiles string, stdout io.Writer) (*store.CopyResult, error) {
	// A server on either SQLite file would change it under the copy.
	for _, path := range []string{from, to} {
		release, err := store.Lock(path)
		if err != nil {
			return nil, err
		}
		defer release()
	}
	src, err := store.Open(ctx, from, store.WithFiles(fromFiles))
	if err != nil {
		return nil, fmt.Errorf("copy: the source: %w", err)
	}
	defer src.Close()
	dst, err := store.Open(ctx, to, store.WithFiles(files))
	if err != nil {
		return nil, fmt.Errorf("copy: the target: %w", err)
	}
	defer dst.Close()
	fmt.Fprintf(stdout, "copying %s to %s\n", src.Path(), dst.Path())
	start := time.Now()
	last := start
	return store.Copy(ctx, src, dst, func(p store.CopyProgress) {
		if time.Since(last) < copyProgressEvery {
			return
		}
		last = time.Now()
		state := "rows"
		if p.Done {
			state = "rows, done"
		}
		fmt.Fprintf(stdout, "  %s: %d of %d %s (%s)\n", p.Table, p.Rows, p.Total, state, time.Since(start).Round(time.Second))
	})
}

// redactURL is a --data value fit to print: a PostgreSQL URL without its
// password.
func redactURL(data string) string {
	if !store.IsPostgres(data) {
		return data
	}
	return store.RedactURL(data)
}
