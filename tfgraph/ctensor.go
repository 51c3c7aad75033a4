package tfgraph

// This file moves float32 data between Go slices and TensorFlow's C tensors with
// one memcpy each way and frees C tensors as soon as a call is done. graft frees
// tensors only from finalizers, which the garbage collector runs when Go memory
// grows; a run allocates little Go memory but megabytes of C tensors per call, so
// waiting for finalizers lets C memory pile up. graft's Tensor keeps its
// *TF_Tensor as its first field; layoutOK checks that once, and without it tfgraph
// falls back to graft's own (slower, finalizer-freed) path.

/*
#cgo LDFLAGS: -ltensorflow
#include <stdlib.h>
#include <string.h>
#include <tensorflow/c/c_api.h>
*/
import "C"

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	tf "github.com/wamuir/graft/tensorflow"
)

func cTensor(t *tf.Tensor) *C.TF_Tensor { return *(**C.TF_Tensor)(unsafe.Pointer(t)) }

var layoutOK = sync.OnceValue(func() bool {
	probe, err := tf.NewTensor([][]float32{{1, 2, 3}, {4, 5, 6}})
	if err != nil {
		return false
	}
	defer runtime.KeepAlive(probe)
	c := cTensor(probe)
	if c == nil || C.TF_TensorType(c) != C.TF_FLOAT || C.TF_NumDims(c) != 2 ||
		C.TF_Dim(c, 0) != 2 || C.TF_Dim(c, 1) != 3 || C.TF_TensorByteSize(c) != 24 {
		return false
	}
	data := unsafe.Slice((*float32)(C.TF_TensorData(c)), 6)
	return data[0] == 1 && data[5] == 6
})

// toC copies t into a new C tensor.
func toC(t *Tensor) (*tf.Tensor, error) {
	var raw []byte
	if len(t.Data) > 0 {
		raw = unsafe.Slice((*byte)(unsafe.Pointer(&t.Data[0])), 4*len(t.Data))
	}
	return tf.ReadTensor(tf.Float, t.Shape, bytes.NewReader(raw))
}

// fromC copies a float32 C tensor into Go memory.
func fromC(ct *tf.Tensor) (*Tensor, error) {
	if ct.DataType() != tf.Float {
		return nil, fmt.Errorf("dtype %s; tfgraph returns float32 only", dtypeName(ct.DataType()))
	}
	out := NewTensor(ct.Shape()...)
	if len(out.Data) == 0 {
		return out, nil
	}
	dst := unsafe.Slice((*byte)(unsafe.Pointer(&out.Data[0])), 4*len(out.Data))
	if layoutOK() {
		c := cTensor(ct)
		if n := int(C.TF_TensorByteSize(c)); n != len(dst) {
			return nil, fmt.Errorf("tensor holds %d bytes, its shape %v needs %d", n, ct.Shape(), len(dst))
		}
		C.memcpy(unsafe.Pointer(&dst[0]), C.TF_TensorData(c), C.size_t(len(dst)))
		runtime.KeepAlive(ct)
		return out, nil
	}
	w := bytes.NewBuffer(dst[:0])
	if _, err := ct.WriteContentsTo(w); err != nil {
		return nil, err
	}
	if w.Len() != len(dst) || &w.Bytes()[0] != &dst[0] {
		return nil, fmt.Errorf("tensor holds %d bytes, its shape %v needs %d", w.Len(), ct.Shape(), len(dst))
	}
	return out, nil
}

// releaseTensor frees t's C memory now rather than at some later garbage
// collection. t must not be used afterwards.
func releaseTensor(t *tf.Tensor) {
	if t == nil || !layoutOK() {
		return
	}
	c := cTensor(t)
	runtime.SetFinalizer(t, nil)
	C.TF_DeleteTensor(c)
	*(**C.TF_Tensor)(unsafe.Pointer(t)) = nil
}
