package cli

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kardianos/service"
)

// installFlags parses args as service install does.
func installFlags(t *testing.T, args ...string) []flagValue {
	t.Helper()
	cfg, err := serveConfig("service install", args, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.flags
}

func TestServiceConfigPerOS(t *testing.T) {
	flags := installFlags(t, "--addr", "0.0.0.0:8080", "--data", "desk/shop.db", "--public-url", "https://desk.example.com",
		"--tls-cert", "certs/desk.pem", "--tls-key", "/etc/ssl/desk.key", "--log-level", "warn")
	for _, goos := range []string{"linux", "windows", "darwin"} {
		t.Run(goos, func(t *testing.T) {
			c := serviceConfig(goos, "/srv/onedesk", flags)
			if c.Name != "onedesk" || c.DisplayName == "" || !strings.Contains(c.Description, "/srv/onedesk/desk/shop.db") {
				t.Fatalf("name %q, display name %q, description %q", c.Name, c.DisplayName, c.Description)
			}
			want := []string{"serve", "--addr=0.0.0.0:8080", "--data=/srv/onedesk/desk/shop.db", "--public-url=https://desk.example.com",
				"--log-level=warn", "--tls-cert=/srv/onedesk/certs/desk.pem", "--tls-key=/etc/ssl/desk.key"}
			got := slices.Clone(c.Arguments)
			slices.Sort(got[1:])
			slices.Sort(want[1:])
			if !slices.Equal(got, want) {
				t.Fatalf("arguments\n got %q\nwant %q", got, want)
			}
			if c.WorkingDirectory != "/srv/onedesk/desk" {
				t.Fatalf("working directory %q", c.WorkingDirectory)
			}
			switch goos {
			case "linux":
				if c.Option["Restart"] != "on-failure" || !slices.Contains(c.Dependencies, "After=network-online.target") {
					t.Fatalf("systemd options %v, dependencies %v", c.Option, c.Dependencies)
				}
				unit, _ := c.Option["SystemdScript"].(string)
				for _, line := range []string{"RestartSec=5", "TimeoutStopSec=20", "Restart={{Restart}}", "KillSignal=SIGTERM",
					"ExecStart={{Path | cmdEscape}}{{range Arguments}} {{. | cmd}}{{end}}", "WantedBy=multi-user.target"} {
					if !strings.Contains(unit, line+"\n") {
						t.Fatalf("the unit lacks %q:\n%s", line, unit)
					}
				}
			case "darwin":
				if c.Option["KeepAlive"] != true || c.Option["RunAtLoad"] != true {
					t.Fatalf("launchd options %v", c.Option)
				}
			case "windows":
				if c.Option["OnFailure"] != "restart" || c.Option["StartType"] != "automatic" {
					t.Fatalf("windows options %v", c.Option)
				}
				if _, err := time.ParseDuration(c.Option["OnFailureDelayDuration"].(string)); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestServiceConfigDefaults(t *testing.T) {
	// Nothing but the data file, made absolute even at its default.
	c := serviceConfig("linux", "/home/ana", installFlags(t))
	if !slices.Equal(c.Arguments, []string{"serve", "--data=/home/ana/onedesk.db"}) || c.WorkingDirectory != "/home/ana" {
		t.Fatalf("arguments %q, working directory %q", c.Arguments, c.WorkingDirectory)
	}
	// Flags from the environment are baked in too: the service does not
	// get the installer's environment.
	t.Setenv("ONEDESK_ADDR", "0.0.0.0:9000")
	t.Setenv("ONEDESK_DATA", "/var/lib/onedesk/desk.db")
	c = serviceConfig("linux", "/root", installFlags(t))
	if !slices.Equal(c.Arguments, []string{"serve", "--addr=0.0.0.0:9000", "--data=/var/lib/onedesk/desk.db"}) ||
		c.WorkingDirectory != "/var/lib/onedesk" {
		t.Fatalf("arguments %q, working directory %q", c.Arguments, c.WorkingDirectory)
	}
	// --domain implies the HTTPS port, which the service gets said outright.
	c = serviceConfig("linux", "/root", installFlags(t, "--domain", "desk.example.com", "--addr", ":443"))
	if !slices.Contains(c.Arguments, "--domain=desk.example.com") {
		t.Fatalf("arguments %q", c.Arguments)
	}
}

func TestServiceCommand(t *testing.T) {
	code, _, stderr := run("service")
	if code != 1 || !strings.Contains(stderr, "install, uninstall, start, stop or status") {
		t.Fatalf("code %d, %s", code, stderr)
	}
	code, _, stderr = run("service", "install", "--tls-cert", "a.pem")
	if code != 1 || !strings.Contains(stderr, "--tls-cert and --tls-key go together") {
		t.Fatalf("code %d, %s", code, stderr)
	}
	code, _, stderr = run("service", "stop", "now")
	if code != 1 || !strings.Contains(stderr, "takes no arguments") {
		t.Fatalf("code %d, %s", code, stderr)
	}
	if !strings.Contains(adminHint("install", []string{"--addr", ":80"}), "sudo onedesk service install --addr :80") {
		t.Fatalf("hint %q", adminHint("install", []string{"--addr", ":80"}))
	}
	if os.Geteuid() != 0 {
		code, _, stderr = run("service", "install")
		if code != 1 || !strings.Contains(stderr, "installing a service needs root: run it again with sudo") {
			t.Fatalf("code %d, %s", code, stderr)
		}
	}
	if f := serviceFile(service.ChosenSystem().String()); f != "" {
		if _, err := os.Stat(f); os.IsNotExist(err) {
			code, stdout, stderr := run("service", "status")
			if code != 0 || stdout != "not installed\n" {
				t.Fatalf("status: code %d, %q %s", code, stdout, stderr)
			}
		}
	}
}

// TestServiceInstallSystemd installs, starts, stops and uninstalls the
// real service, where the machine runs systemd and the test runs as root.
func TestServiceInstallSystemd(t *testing.T) {
	if sys := service.ChosenSystem(); sys == nil || sys.String() != "linux-systemd" {
		t.Skipf("the service manager here is %v, not a running systemd: install/uninstall against systemd not tried", service.ChosenSystem())
	}
	if os.Geteuid() != 0 {
		t.Skip("installing a systemd service needs root")
	}
	if _, err := os.Stat(serviceFile("linux-systemd")); err == nil {
		t.Skip("an onedesk service is installed on this machine already: not touching it")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "onedesk")
	if out, err := exec.Command("go", "build", "-o", bin, "onedesk").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("onedesk %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	cmd("service", "install", "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "desk.db"))
	t.Cleanup(func() { exec.Command(bin, "service", "uninstall").Run() })
	unit, err := os.ReadFile(serviceFile("linux-systemd"))
	if err != nil || !strings.Contains(string(unit), "--data="+filepath.Join(dir, "desk.db")) || !strings.Contains(string(unit), "Restart=on-failure") {
		t.Fatalf("unit %s (%v)", unit, err)
	}
	if s := cmd("service", "status"); s != "stopped\n" {
		t.Fatalf("status after install %q", s)
	}
	cmd("service", "start")
	deadline := time.Now().Add(10 * time.Second)
	for cmd("service", "status") != "running\n" {
		if time.Now().After(deadline) {
			t.Fatal("the service did not come up")
		}
		time.Sleep(100 * time.Millisecond)
	}
	cmd("service", "stop")
	cmd("service", "uninstall")
	if s := cmd("service", "status"); s != "not installed\n" {
		t.Fatalf("status after uninstall %q", s)
	}
}

// A PostgreSQL URL stays a URL (not a path under the working directory),
// its password stays off the service's command line and description, and
// the service runs from the installer's folder, where --domain's
// certificates go.
func TestServiceConfigOnPostgres(t *testing.T) {
	t.Setenv("ONEDESK_DATA", "postgres://desk:s3cret@db.internal:5432/onedesk?sslmode=require")
	c := serviceConfig("linux", "/srv/onedesk", installFlags(t, "--domain", "desk.example.com", "--addr", ":443"))
	if !slices.Contains(c.Arguments, "--data=postgres://desk@db.internal:5432/onedesk?sslmode=require") || c.WorkingDirectory != "/srv/onedesk" {
		t.Fatalf("arguments %q, working directory %q", c.Arguments, c.WorkingDirectory)
	}
	if all := strings.Join(c.Arguments, " ") + c.Description; strings.Contains(all, "s3cret") {
		t.Fatalf("the password is in the service: %q %q", c.Arguments, c.Description)
	}
	cfg, err := serveConfig("serve", nil, io.Discard)
	if err != nil || cfg.certDir() != "" {
		t.Fatalf("certificates on PostgreSQL go to %q (%v), want the database", cfg.certDir(), err)
	}
	if cfg, _ := serveConfig("serve", []string{"--certs", "/etc/onedesk/certs"}, io.Discard); cfg.certDir() != "/etc/onedesk/certs" {
		t.Fatalf("--certs: %q", cfg.certDir())
	}
}
