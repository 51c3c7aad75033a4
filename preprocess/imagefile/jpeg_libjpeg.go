//go:build cgo && !nolibjpeg

package imagefile

/*
#cgo LDFLAGS: -ljpeg

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>
#include <jerror.h>

#ifndef LIBJPEG_TURBO_VERSION
#error "preprocess/imagefile needs libjpeg-turbo's jpeglib.h (Debian: libjpeg62-turbo-dev), or build with -tags nolibjpeg"
#endif
#define NS_STR2(x) #x
#define NS_STR(x) NS_STR2(x)

enum { NS_OK = 0, NS_ERR = 1, NS_EOF = 2, NS_SCANS = 3 };

// One decoder. The compressed data is C memory owned by this struct, so libjpeg
// may keep pointers into it across calls from Go.
typedef struct {
	struct jpeg_decompress_struct d;
	struct jpeg_error_mgr jerr;
	struct jpeg_source_mgr src;
	struct jpeg_progress_mgr progress;
	jmp_buf jb;
	int status;    // why libjpeg bailed out (NS_ERR, NS_EOF, NS_SCANS)
	int max_scans;
	char msg[JMSG_LENGTH_MAX];
	unsigned char *data;
	size_t len;
} ns_jpeg;

static void ns_error_exit(j_common_ptr c) {
	ns_jpeg *j = (ns_jpeg *)c->client_data;
	if (j->status == NS_OK) {
		j->status = NS_ERR;
	}
	(*c->err->format_message)(c, j->msg);
	longjmp(j->jb, 1);
}

// Warnings (corrupt-data recoveries and the like) are ignored, as Pillow does.
static void ns_output_message(j_common_ptr c) { (void)c; }

static void ns_init_source(j_decompress_ptr d) { (void)d; }
static void ns_term_source(j_decompress_ptr d) { (void)d; }

// All data is in the buffer from the start: needing more means the file is
// truncated. Pillow's suspending source ends in the same place ("image file is
// truncated"), so this is an error, not libjpeg's default of inventing an EOI.
static boolean ns_fill_input_buffer(j_decompress_ptr d) {
	ns_jpeg *j = (ns_jpeg *)d->client_data;
	j->status = NS_EOF;
	ERREXIT(d, JERR_INPUT_EOF);
	return FALSE;
}

static void ns_skip_input_data(j_decompress_ptr d, long n) {
	if (n <= 0) {
		return;
	}
	if ((size_t)n > d->src->bytes_in_buffer) {
		ns_fill_input_buffer(d);
	}
	d->src->next_input_byte += n;
	d->src->bytes_in_buffer -= (size_t)n;
}

// A progressive file can hold any number of scans, each a pass over the whole
// image; bounding them bounds the work a small malicious file can cause.
static void ns_progress(j_common_ptr c) {
	ns_jpeg *j = (ns_jpeg *)c->client_data;
	j_decompress_ptr d = (j_decompress_ptr)c;
	if (d->input_scan_number > j->max_scans) {
		j->status = NS_SCANS;
		snprintf(j->msg, sizeof j->msg, "more than %d scans", j->max_scans);
		longjmp(j->jb, 1);
	}
}

static ns_jpeg *ns_new(const void *data, size_t len, int max_scans) {
	ns_jpeg *j = calloc(1, sizeof *j);
	if (j == NULL) {
		return NULL;
	}
	j->data = malloc(len ? len : 1);
	if (j->data == NULL) {
		free(j);
		return NULL;
	}
	memcpy(j->data, data, len);
	j->len = len;
	j->max_scans = max_scans;
	j->d.err = jpeg_std_error(&j->jerr);
	j->jerr.error_exit = ns_error_exit;
	j->jerr.output_message = ns_output_message;
	j->d.client_data = j;
	if (setjmp(j->jb)) {
		jpeg_destroy_decompress(&j->d);
		free(j->data);
		free(j);
		return NULL;
	}
	jpeg_create_decompress(&j->d);
	j->src.init_source = ns_init_source;
	j->src.fill_input_buffer = ns_fill_input_buffer;
	j->src.skip_input_data = ns_skip_input_data;
	j->src.resync_to_restart = jpeg_resync_to_restart;
	j->src.term_source = ns_term_source;
	j->src.next_input_byte = j->data;
	j->src.bytes_in_buffer = len;
	j->d.src = &j->src;
	j->progress.progress_monitor = ns_progress;
	j->d.progress = &j->progress;
	return j;
}

static void ns_free(ns_jpeg *j) {
	jpeg_destroy_decompress(&j->d);
	free(j->data);
	free(j);
}

// ns_header reads the markers up to the first scan.
static int ns_header(ns_jpeg *j) {
	if (setjmp(j->jb)) {
		return j->status;
	}
	jpeg_read_header(&j->d, TRUE);
	return NS_OK;
}

static int ns_width(ns_jpeg *j) { return (int)j->d.image_width; }
static int ns_height(ns_jpeg *j) { return (int)j->d.image_height; }
static int ns_components(ns_jpeg *j) { return j->d.num_components; }
static int ns_precision(ns_jpeg *j) { return j->d.data_precision; }

// ns_prepare sets the output that Pillow asks for, grey, RGB or (raw,
// inverted) CMYK, with libjpeg's defaults, which are Pillow's: islow DCT,
// fancy upsampling; and a DCT scaling of 1/denom (1, 2, 4 or 8, as Pillow's
// Image.draft asks for). It works out the output size (ns_out_width,
// ns_out_height) before any pixel memory is allocated.
static int ns_prepare(ns_jpeg *j, int denom) {
	if (setjmp(j->jb)) {
		return j->status;
	}
	switch (j->d.num_components) {
	case 1: j->d.out_color_space = JCS_GRAYSCALE; break;
	case 3: j->d.out_color_space = JCS_RGB; break;
	case 4: j->d.out_color_space = JCS_CMYK; break;
	default:
		j->status = NS_ERR;
		snprintf(j->msg, sizeof j->msg, "cannot handle %d-component images", j->d.num_components);
		return NS_ERR;
	}
	j->d.scale_num = 1;
	j->d.scale_denom = (unsigned int)denom;
	jpeg_calc_output_dimensions(&j->d);
	return NS_OK;
}

static int ns_out_width(ns_jpeg *j) { return (int)j->d.output_width; }
static int ns_out_height(ns_jpeg *j) { return (int)j->d.output_height; }

// ns_decode decompresses, as ns_prepare set it up, into out
// (out_width*out_height*components bytes).
static int ns_decode(ns_jpeg *j, unsigned char *out) {
	if (setjmp(j->jb)) {
		return j->status;
	}
	JDIMENSION w = j->d.output_width, h = j->d.output_height;
	jpeg_start_decompress(&j->d);
	if (j->d.output_width != w || j->d.output_height != h ||
	    j->d.output_components != j->d.num_components) {
		j->status = NS_ERR;
		snprintf(j->msg, sizeof j->msg, "unexpected output layout");
		return NS_ERR;
	}
	size_t stride = (size_t)j->d.output_width * (size_t)j->d.output_components;
	while (j->d.output_scanline < j->d.output_height) {
		JSAMPROW row = out + (size_t)j->d.output_scanline * stride;
		jpeg_read_scanlines(&j->d, &row, 1);
	}
	// Like Pillow, stop once every row is out: a missing EOI is not an error.
	return NS_OK;
}

static const char *ns_msg(ns_jpeg *j) { return j->msg; }
static const char *ns_version(void) { return NS_STR(LIBJPEG_TURBO_VERSION); }
*/
import "C"

import (
	"fmt"
	"io"
	"unsafe"

	"github.com/neuralstyle/neuralstyle/preprocess"
)

// maxJPEGScans bounds the scans of a progressive JPEG (real files have about
// ten); see ns_progress.
const maxJPEGScans = 1000

// JPEGDecoder says which JPEG decoder this build uses: here libjpeg-turbo
// through its libjpeg API, with Pillow's settings, so pixels equal Pillow's.
func JPEGDecoder() string {
	return "libjpeg-turbo " + C.GoString(C.ns_version()) + " (libjpeg API, islow DCT, fancy upsampling: Pillow's pixels)"
}

// decodeJPEGRaw returns the decoded samples (1, 3 or 4 per pixel: grey, RGB, or
// CMYK as stored) after checking the header's size against limit, shrunk
// while decoding for shrinkTo as jpegScale says (0: full size).
func decodeJPEGRaw(data []byte, limit int64, shrinkTo int) (pix []byte, w, h, comps int, err error) {
	j := C.ns_new(unsafe.Pointer(unsafe.SliceData(data)), C.size_t(len(data)), maxJPEGScans)
	if j == nil {
		return nil, 0, 0, 0, fmt.Errorf("%w: cannot set up libjpeg", ErrCorrupt)
	}
	defer C.ns_free(j)
	if st := C.ns_header(j); st != C.NS_OK {
		return nil, 0, 0, 0, jpegError(j, st)
	}
	w, h, comps = int(C.ns_width(j)), int(C.ns_height(j)), int(C.ns_components(j))
	if p := int(C.ns_precision(j)); p != 8 {
		return nil, 0, 0, 0, fmt.Errorf("%w JPEG variant: %d-bit samples", ErrUnsupported, p)
	}
	if comps != 1 && comps != 3 && comps != 4 {
		return nil, 0, 0, 0, fmt.Errorf("%w JPEG variant: %d components", ErrUnsupported, comps)
	}
	if err := preprocess.CheckSize(w, h, limit); err != nil {
		return nil, 0, 0, 0, err
	}
	if st := C.ns_prepare(j, C.int(jpegScale(w, h, shrinkTo))); st != C.NS_OK {
		return nil, 0, 0, 0, jpegError(j, st)
	}
	w, h = int(C.ns_out_width(j)), int(C.ns_out_height(j))
	pix = make([]byte, w*h*comps)
	if st := C.ns_decode(j, (*C.uchar)(unsafe.Pointer(unsafe.SliceData(pix)))); st != C.NS_OK {
		return nil, 0, 0, 0, jpegError(j, st)
	}
	return pix, w, h, comps, nil
}

func jpegError(j *C.ns_jpeg, st C.int) error {
	msg := C.GoString(C.ns_msg(j))
	switch st {
	case C.NS_EOF:
		return fmt.Errorf("truncated JPEG file: %w", io.ErrUnexpectedEOF)
	case C.NS_SCANS:
		return fmt.Errorf("%w: JPEG with %s", preprocess.ErrTooLarge, msg)
	}
	return fmt.Errorf("%w: libjpeg: %s", ErrCorrupt, msg)
}
