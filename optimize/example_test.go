package optimize_test

import (
	"context"
	"fmt"
	"log"
	"math"

	"github.com/neuralstyle/neuralstyle/optimize"
)

// rosenbrock is f(x, y) = 100 (y - x²)² + (1 - x)², minimum 0 at (1, 1).
// The float64 conversions round each product, so that no architecture
// fuses it into a multiply-add and every machine takes the same steps.
func rosenbrock(x, grad []float64) (float64, error) {
	a, b := x[1]-float64(x[0]*x[0]), 1-x[0]
	grad[0] = float64(-400*x[0]*a) - float64(2*b)
	grad[1] = 200 * a
	return float64(100*a*a) + float64(b*b), nil
}

// Minimise the Rosenbrock function with x bounded above by 0.5: the
// minimum moves to the bound.
func Example() {
	s := optimize.DefaultSettings()
	s.Upper = []float64{0.5, math.Inf(1)} // +Inf: y has no upper bound
	res, err := optimize.Minimize(context.Background(), rosenbrock, []float64{-1.2, 1}, s)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("x = %.4f, y = %.4f, f = %.4f\n", res.X[0], res.X[1], res.F)
	fmt.Println(res.Status.Message(), res.Warnflag)
	fmt.Println(res.Iterations, "iterations,", res.Evaluations, "evaluations")
	// Output:
	// x = 0.5000, y = 0.2500, f = 0.2500
	// CONVERGENCE: NORM_OF_PROJECTED_GRADIENT_<=_PGTOL 0
	// 20 iterations, 29 evaluations
}

// The notebook's loop: several calls of at most maxfun=20 evaluations (a
// call may use more: the limit is checked when an iteration completes),
// each starting with an empty memory from the previous call's x, with a
// callback for progress.
func ExampleMinimize_restarts() {
	s := optimize.DefaultSettings()
	s.MaxFun = 20
	iters := 0
	s.Callback = func(it optimize.Iteration) error {
		iters++ // e.g. report progress or save a frame here
		return nil
	}
	x := []float64{-1.2, 1}
	for i := range 3 {
		res, err := optimize.Minimize(context.Background(), rosenbrock, x, s)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("call %d: f = %.3g after %d evaluations: %s\n", i, res.F, res.Evaluations, res.Status)
		x = res.X
	}
	fmt.Println(iters, "iterations in all")
	// Output:
	// call 0: f = 1.05 after 21 evaluations: FunctionEvaluationLimit
	// call 1: f = 0.0142 after 22 evaluations: FunctionEvaluationLimit
	// call 2: f = 5.8e-15 after 17 evaluations: GradientConvergence
	// 45 iterations in all
}
