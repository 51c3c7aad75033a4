package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/neuralstyle/neuralstyle/internal/fastnet"
	"github.com/neuralstyle/neuralstyle/internal/provenance"
	"github.com/neuralstyle/neuralstyle/internal/stylist"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

func serveCommand() *cli.Command {
	lim := stylist.DefaultLimits()
	return &cli.Command{
		Name:      "serve",
		Usage:     "run Stylist, the web app: upload a photo and a painting, watch the transfer paint, keep the results",
		UsageText: "neuralstyle serve [--addr 127.0.0.1:8080] [--data DIR] [options]",
		Description: "serve loads the model once and serves a page whose form holds transfer's settings.\n" +
			"Jobs (single pictures, or sweeps of one setting over several values, drawn on a\n" +
			"contact sheet) wait in a queue, one running at a time, kept with their images and\n" +
			"results under --data: a restart keeps finished jobs, runs waiting ones, and resumes\n" +
			"a job that was running from the last iteration it saved (a sweep from its last\n" +
			"finished picture). With the feed-forward networks (--fastnets, make fastnets) the page\n" +
			"shows a feed-forward picture within about a second of Paint, offers the 26 styles as a\n" +
			"gallery, and refines a picture by optimisation from it; instant pictures, quick and\n" +
			"long optimisations run in lanes of their own. Without the networks it serves the\n" +
			"optimisation alone and says so. --nets adds networks of neuralstyle train to the gallery.\n" +
			"The server listens on 127.0.0.1 only, unless --addr names\n" +
			"another address, which needs --token (or --no-auth, which lets anyone who reaches\n" +
			"the port use it).",
		Flags: append([]cli.Flag{
			modelFlag("build/model"),
			fastnetsFlag(),
			&cli.StringFlag{Name: "addr", Usage: "`HOST:PORT` to listen on", Value: "127.0.0.1:8080", EnvVars: []string{"NEURALSTYLE_ADDR"}},
			&cli.StringFlag{Name: "data", Usage: "`DIR` of the job database, uploads and results", Value: "stylist-data", EnvVars: []string{"NEURALSTYLE_DATA"}},
			&cli.StringFlag{Name: "images", Usage: "`DIR` of images the page offers besides uploads, such as scripts/examples", EnvVars: []string{"NEURALSTYLE_IMAGES"}},
			&cli.StringFlag{Name: "nets", Usage: "`DIR` of networks neuralstyle train wrote, one subfolder each, that the gallery offers beside the 26 styles (with --fastnets' networks)", EnvVars: []string{"NEURALSTYLE_NETS"}},
			&cli.StringFlag{Name: "token", Usage: "secret `TOKEN` every request must carry (open the printed address once: it sets a cookie)", EnvVars: []string{"NEURALSTYLE_TOKEN"}},
			&cli.BoolFlag{Name: "no-auth", Usage: "serve a non-loopback --addr without a token"},
			&cli.Int64Flag{Name: "max-upload", Usage: "largest job request in `MiB`, both images together", Value: lim.UploadBytes >> 20},
			&cli.Int64Flag{Name: "max-pixels", Usage: "largest uploaded image in pixels, checked before decoding", Value: lim.MaxPixels},
			&cli.IntFlag{Name: "max-side", Usage: "largest width or height of a transfer", Value: lim.MaxSide},
			&cli.IntFlag{Name: "max-iterations", Usage: "most iterations of a transfer", Value: lim.Iterations},
			&cli.IntFlag{Name: "max-queued", Usage: "most jobs waiting at once", Value: lim.Queued},
			&cli.IntFlag{Name: "max-sweep", Usage: "most pictures of a sweep", Value: lim.SweepPoints},
		}, sessionFlags()...),
		Action: runServe,
	}
}

func runServe(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	lim := stylist.DefaultLimits()
	// The upload limit is in MiB and becomes bytes: 1 TiB at most, so that
	// it cannot overflow.
	const maxUploadMiB = 1 << 20
	if mb := c.Int64("max-upload"); mb < 1 || mb > maxUploadMiB {
		return usagef("--max-upload %d: want the largest job request in MiB, from 1 to %d (1 TiB), such as %d", mb, maxUploadMiB, lim.UploadBytes>>20)
	}
	lim.UploadBytes = c.Int64("max-upload") << 20
	lim.MaxPixels = c.Int64("max-pixels")
	lim.MaxSide = c.Int("max-side")
	lim.Iterations = c.Int("max-iterations")
	lim.Queued = c.Int("max-queued")
	lim.SweepPoints = c.Int("max-sweep")
	for _, l := range []struct {
		flag  string
		value int64
		least int64
	}{{"max-pixels", lim.MaxPixels, 1}, {"max-side", int64(lim.MaxSide), 16}, {"max-iterations", int64(lim.Iterations), 1},
		{"max-queued", int64(lim.Queued), 1}, {"max-sweep", int64(lim.SweepPoints), 1}} {
		if l.value < l.least {
			return usagef("--%s %d: want at least %d", l.flag, l.value, l.least)
		}
	}
	addr := c.String("addr")
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("--addr %q: want HOST:PORT, such as 127.0.0.1:8080", addr)
	}
	token := c.String("token")
	if !loopback(host) && token == "" {
		if !c.Bool("no-auth") {
			return usagef("--addr %s is reachable from other machines: give --token, or --no-auth to let anyone who reaches it use the server", addr)
		}
		fmt.Fprintf(c.App.ErrWriter, "neuralstyle: WARNING: serving %s without a token (--no-auth): anyone who reaches this port can upload images and queue jobs\n", addr)
	}
	if dir := c.String("nets"); dir != "" {
		if err := stylist.CheckNetsDir(dir); err != nil {
			return usagef("--nets %s: %v", dir, err)
		}
	}
	opts, err := sessionOptions(c)
	if err != nil {
		return err
	}
	// Listen before loading the model, so a taken port fails fast.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	defer ln.Close()
	model, err := tfgraph.Load(c.String("model"), opts)
	if err != nil {
		return err
	}
	defer model.Close()
	if err := transfer.CheckModel(model, transfer.GraphFast); err != nil {
		return err
	}
	modelID, err := provenance.ModelID(c.String("model"))
	if err != nil {
		return err
	}
	nets, missing := loadServeFastNets(c, opts)
	if nets != nil {
		defer nets.Close()
	}
	logger := log.New(c.App.ErrWriter, "", log.LstdFlags)
	// Without a token, requests must name the server as it listens (see
	// stylist.Options.Hosts); ":8080" listens on every address.
	if host == "" {
		host = "::"
	}
	sopts := stylist.Options{
		Data: c.String("data"), Runner: stylist.ModelRunner(model), Limits: lim, Token: token, Images: c.String("images"), Logf: logger.Printf,
		ModelID: modelID, Hosts: []string{host}, FastNetsMissing: missing,
	}
	if nets != nil {
		sopts.FastNets = nets
	}
	if dir := c.String("nets"); dir != "" && nets == nil {
		logger.Printf("stylist: the trained networks of --nets %s are not offered: the gallery needs the feed-forward networks (%s)", dir, missing)
	} else if dir != "" {
		trained, closeTrained, err := stylist.OpenNets(dir, opts, logger.Printf)
		if err != nil {
			return err
		}
		defer closeTrained()
		sopts.Nets = trained
		logger.Printf("stylist: %d trained networks from %s", len(trained), dir)
	}
	srv, err := stylist.New(sopts)
	if err != nil {
		return err
	}
	defer srv.Close()

	url := "http://" + ln.Addr().String() + "/"
	if token != "" {
		url += "?token=" + token
	}
	fmt.Fprintf(c.App.Writer, "Stylist is serving %s (data in %s); Ctrl-C stops it\n", url, c.String("data"))
	// No ReadTimeout: it would end event streams; the server paces request
	// bodies itself.
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, ErrorLog: logger}
	ctx, stop := interruptContext(c, nil) // a second Ctrl-C exits at once; the next start resumes a running job
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Event streams stay open until their job ends; do not wait for them.
	if err := hs.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// loopback reports whether host is reachable only from this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loadServeFastNets loads the feed-forward networks of --fastnets for the
// page's instant picture and gallery. Without them the server runs all the
// same: the log says why, and so does the page, in its words (missing).
func loadServeFastNets(c *cli.Context, opts *tfgraph.Options) (m *fastnet.Model, missing string) {
	dir := c.String("fastnets")
	_, err := fastnet.ReadMeta(dir)
	if err == nil {
		if m, err = fastnet.Load(dir, opts); err == nil {
			return m, ""
		}
		missing = fmt.Sprintf("those in %s did not load; rebuild them with make fastnets and start the server again", dir)
	} else {
		missing = fmt.Sprintf("none usable in %s; build them with make fastnets (a 2.9 MB download, converted in under a minute) and start the server again", dir)
	}
	fmt.Fprintf(c.App.ErrWriter, "neuralstyle: serving without the instant picture and the gallery of styles: %v\n", err)
	return nil, missing
}
