// Command onedesk is an omnichannel helpdesk in one executable.
package main

import (
	"os"

	"onedesk/cli"
)

func main() { os.Exit(cli.Run(os.Args[1:], os.Stdout, os.Stderr)) }
