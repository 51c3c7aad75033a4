package main

import "fmt"

// weightsOrigin is the part of neuralstyle.json that says the weights are not
// ImageNet's: savedmodel records weights.origin for a file made from another
// network (scripts/models/hed_weights.py: HED's VGG16 backbone).
type weightsOrigin struct {
	Weights struct {
		Origin *struct {
			Name        string `json:"name"`
			Description string `json:"description"`
			Package     string `json:"package"`
		} `json:"origin"`
	} `json:"weights"`
}

// weightsNotice returns the line a command prints before working with a model whose
// weights are not ImageNet's, so that nothing made with them passes for ImageNet's;
// "" for ImageNet, random or unmarked weights, and for a model without a record.
func weightsNotice(dir string) (string, error) {
	var w weightsOrigin
	if _, err := decodeMetadata(dir, &w); err != nil {
		return "", err
	}
	o := w.Weights.Origin
	if o == nil {
		return "", nil
	}
	return fmt.Sprintf("note: %s has %s weights (%s; %s), not ImageNet's", dir, o.Name, o.Description, o.Package), nil
}
