package stylist

import (
	"bytes"
	"context"
	"image"
	_ "image/gif" // DecodeConfig of the formats imagefile reads, for estimates
	_ "image/jpeg"
	_ "image/png"
	"io"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// decodeBytesPerPixel is what decoding an upload allocates per pixel, an
// upper bound: measured with imagefile.Decode on 3000x3000 images (Go's
// runtime.MemStats.TotalAlloc), a greyscale PNG allocates 4.0 bytes a
// pixel, an RGBA PNG 7.1 and a JPEG 4.7; 16-bit PNGs decode to 8 bytes a
// pixel before the 3 of RGB, hence 12.
const decodeBytesPerPixel = 12

// decodeCost estimates the memory of decoding data, from its header; an
// image whose header cannot be read costs the most an allowed one may. A JPEG
// shrunk while decoding (opt.ShrinkTo) is still counted at full size: a
// progressive one keeps all its DCT coefficients in libjpeg's memory, 2 bytes
// a sample, whatever the scale, and the header DecodeConfig reads does not
// say which kind a file is. Measured on 7000x7000 uploads shrunk for 512 a
// side (TestUploadShrinks' peak): baseline 9 MiB, progressive 4:2:0 146 MiB
// and 4:4:4 288 MiB (283 and 426 MiB at full size), all within the full
// size's 12 bytes a pixel (561 MiB): a baseline JPEG is over-counted, so it
// may wait when it need not, never the other way round.
func decodeCost(data []byte, opt *imagefile.DecodeOptions) int64 {
	maxPixels := opt.MaxPixels
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return maxPixels * decodeBytesPerPixel
	}
	return min(int64(cfg.Width)*int64(cfg.Height), maxPixels) * decodeBytesPerPixel
}

// decodeBudget bounds the memory of the uploads being decoded at once: at
// most slots decodes, whose estimated costs add up to at most bytes (one
// decode always runs, whatever its cost). Uploads that do not fit wait.
type decodeBudget struct {
	slots int
	bytes int64

	mu      sync.Mutex
	running int
	used    int64
	most    int           // the most decodes that ran at once, for tests
	freed   chan struct{} // closed when a decode ends
}

func newDecodeBudget(slots int, bytes int64) *decodeBudget {
	return &decodeBudget{slots: slots, bytes: bytes, freed: make(chan struct{})}
}

// acquire waits until a decode of cost fits, or ctx ends.
func (b *decodeBudget) acquire(ctx context.Context, cost int64) error {
	for {
		b.mu.Lock()
		if b.running == 0 || (b.running < b.slots && b.used+cost <= b.bytes) {
			b.running++
			b.used += cost
			b.most = max(b.most, b.running)
			b.mu.Unlock()
			return nil
		}
		freed := b.freed
		b.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-freed:
		}
	}
}

// bigDecode is the cost over which a finished decode returns its memory to
// the system at once: the resident size then stays near what the budget
// allows, instead of the garbage collector's target of twice the live heap.
const bigDecode = 64 << 20

func (b *decodeBudget) release(cost int64) {
	if cost > bigDecode {
		debug.FreeOSMemory()
	}
	b.mu.Lock()
	b.running--
	b.used -= cost
	close(b.freed)
	b.freed = make(chan struct{})
	b.mu.Unlock()
}

// Upload pace: a job request's body must arrive at minUploadRate bytes a
// second after uploadGrace, or the connection is closed, so that a client
// trickling its body cannot hold a connection and a goroutine for long.
const (
	minUploadRate = 64 << 10
	uploadGrace   = 10 * time.Second
)

// pacedBody reads a request body under a read deadline that moves with the
// bytes received: start + grace + received / minUploadRate.
type pacedBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	start time.Time
	grace time.Duration
	n     int64
}

func (p *pacedBody) Read(b []byte) (int, error) {
	deadline := p.start.Add(p.grace + time.Duration(p.n)*time.Second/minUploadRate)
	if err := p.rc.SetReadDeadline(deadline); err != nil && err != http.ErrNotSupported {
		return 0, err
	}
	n, err := p.ReadCloser.Read(b)
	p.n += int64(n)
	return n, err
}
