package tfgraph

import (
	"fmt"
	"sort"
	"strings"

	tf "github.com/wamuir/graft/tensorflow"
)

// Tensor is a dense float32 tensor in row-major order. A scalar has an empty, non-nil
// Shape and one element.
type Tensor struct {
	Shape []int64
	Data  []float32
}

// NewTensor returns a zero tensor of the given shape.
func NewTensor(shape ...int64) *Tensor {
	return &Tensor{Shape: append([]int64{}, shape...), Data: make([]float32, elements(shape))}
}

// Scalar returns a scalar tensor holding v.
func Scalar(v float32) *Tensor { return &Tensor{Shape: []int64{}, Data: []float32{v}} }

func elements(shape []int64) int64 {
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	return n
}

// Run calls the named signature with the given inputs, which must be exactly the
// signature's inputs, and returns every output of the signature by name.
func (m *Model) Run(signatureName string, inputs map[string]*Tensor) (map[string]*Tensor, error) {
	sig, err := m.lookup(signatureName)
	if err != nil {
		return nil, err
	}
	if err := sig.check(inputs); err != nil {
		return nil, fmt.Errorf("tfgraph: run %q: %w", signatureName, err)
	}
	if err := m.checkOpen(); err != nil {
		return nil, err
	}
	bound, err := m.bind(sig)
	if err != nil {
		return nil, fmt.Errorf("tfgraph: run %q: %w", signatureName, err)
	}

	feeds := make(map[tf.Output]*tf.Tensor, len(inputs))
	defer func() {
		for _, t := range feeds {
			releaseTensor(t)
		}
	}()
	for name, t := range inputs {
		ct, err := toC(t)
		if err != nil {
			return nil, fmt.Errorf("tfgraph: run %q: input %q: %v", signatureName, name, err)
		}
		feeds[bound.inputs[name]] = ct
	}
	names := make([]string, 0, len(bound.outputs))
	for name := range bound.outputs {
		names = append(names, name)
	}
	sort.Strings(names)
	fetches := make([]tf.Output, len(names))
	for i, name := range names {
		fetches[i] = bound.outputs[name]
	}

	results, err := m.sess.Run(feeds, fetches, nil)
	if err != nil {
		return nil, explainRun(signatureName, err)
	}
	defer func() {
		for _, t := range results {
			releaseTensor(t)
		}
	}()
	out := make(map[string]*Tensor, len(names))
	for i, name := range names {
		t, err := fromC(results[i])
		if err != nil {
			return nil, fmt.Errorf("tfgraph: run %q: output %q: %v", signatureName, name, err)
		}
		out[name] = t
	}
	return out, nil
}

// check compares inputs with the signature: every input present, no other, float32,
// and shapes that fit the signature's known dimensions.
func (s *signature) check(inputs map[string]*Tensor) error {
	var missing, unexpected []string
	for name := range s.inputs {
		if _, ok := inputs[name]; !ok {
			missing = append(missing, name)
		}
	}
	for name := range inputs {
		if _, ok := s.inputs[name]; !ok {
			unexpected = append(unexpected, name)
		}
	}
	if len(missing) > 0 || len(unexpected) > 0 {
		sort.Strings(missing)
		sort.Strings(unexpected)
		var parts []string
		if len(missing) > 0 {
			parts = append(parts, "missing input "+quoteAll(missing))
		}
		if len(unexpected) > 0 {
			parts = append(parts, "unexpected input "+quoteAll(unexpected))
		}
		return fmt.Errorf("%s; the signature takes %s", strings.Join(parts, ", "), specList(s.Inputs))
	}
	for _, spec := range s.Inputs {
		t := inputs[spec.Name]
		if t == nil {
			return fmt.Errorf("input %q is nil", spec.Name)
		}
		if spec.DType != "float32" {
			return fmt.Errorf("input %q has dtype %s; tfgraph feeds float32 only", spec.Name, spec.DType)
		}
		for _, d := range t.Shape {
			if d < 0 {
				return fmt.Errorf("input %q: shape %v has a negative dimension", spec.Name, t.Shape)
			}
		}
		if n := elements(t.Shape); int64(len(t.Data)) != n {
			return fmt.Errorf("input %q: shape %v needs %d values, got %d", spec.Name, t.Shape, n, len(t.Data))
		}
		if !fits(t.Shape, spec.Shape) {
			return fmt.Errorf("input %q: shape %v does not fit the signature's %s", spec.Name, t.Shape, FormatShape(spec.Shape))
		}
	}
	return nil
}

func fits(shape, want []int64) bool {
	if want == nil {
		return true
	}
	if len(shape) != len(want) {
		return false
	}
	for i, d := range want {
		if d >= 0 && shape[i] != d {
			return false
		}
	}
	return true
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

func specList(specs []TensorSpec) string {
	parts := make([]string, len(specs))
	for i, s := range specs {
		parts[i] = s.String()
	}
	return strings.Join(parts, ", ")
}

// firstLine keeps TensorFlow's error message short: its later lines repeat the
// graph context, which means nothing to a user.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[:i])
	}
	return s
}
