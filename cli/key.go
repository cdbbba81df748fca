package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"onedesk/store"
)

// keyCmd is `onedesk key new` (a key to give ONEDESK_SECRET_KEY) and
// `onedesk key rotate --data X` (every secret sealed with a new key; see
// store.RotateSecretKey).
func keyCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("the key command takes 'new' or 'rotate': onedesk key rotate --data F")
	}
	switch args[0] {
	case "new":
		fs := flag.NewFlagSet("key new", flag.ContinueOnError)
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		fmt.Fprintln(stdout, store.NewSecretKey())
		return nil
	case "rotate":
		return keyRotate(args[1:], stdout, stderr)
	}
	return fmt.Errorf("unknown key command %q: onedesk key new, or onedesk key rotate --data F", args[0])
}

func keyRotate(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("key rotate", flag.ContinueOnError)
	data := dataFlag(fs)
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	// SQLite: no server may write the file meanwhile (its lock says so).
	release, err := store.Lock(*data)
	if err != nil {
		return err
	}
	defer release()
	if !store.IsPostgres(*data) {
		if _, err := os.Stat(*data); err != nil {
			return fmt.Errorf("key rotate: %w", err)
		}
	}
	rot, err := store.RotateSecretKey(context.Background(), *data)
	if err != nil {
		return err
	}
	if rot.Resumed {
		fmt.Fprintf(stdout, "finished the rotation that had stopped half-way\n")
	}
	fmt.Fprintf(stdout, "%d secrets of %s are now sealed with key %s (they were with key %s)\n", rot.Sealed, store.Redacted(*data), rot.To, rot.From)
	if rot.Retired != "" {
		fmt.Fprintf(stdout, "the new key is in %s; the old one is kept in %s for the backups made before now: "+
			"move it to where you keep the backups' keys, and delete it once those backups are gone\n", *data+".key", rot.Retired)
	} else {
		fmt.Fprintf(stdout, "now give every node %s (key %s) alone: remove %s and restart them one by one; keep the old key with the backups made before now\n",
			store.SecretKeyEnv, rot.To, store.OldSecretKeyEnv)
	}
	return nil
}
