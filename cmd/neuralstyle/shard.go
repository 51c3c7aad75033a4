package main

import (
	"os"

	"github.com/urfave/cli/v2"

	"github.com/neuralstyle/neuralstyle/internal/sweep"
)

// shardFlag is sweep's and batch's --shard; what names the things cut up.
func shardFlag(what string) *cli.StringFlag {
	return &cli.StringFlag{
		Name: "shard",
		Usage: "run part `I/N` of the " + what + " (I from 1), e.g. a job array's task; auto: the part a Slurm job " +
			"array's task is (SLURM_ARRAY_TASK_ID), auto/N: a Kubernetes Indexed Job's (JOB_COMPLETION_INDEX) of N completions " +
			"(docs/cluster.md)",
		EnvVars: []string{"NEURALSTYLE_SHARD"},
	}
}

// parseShardFlag reads --shard; source says which scheduler variables auto
// read ("" for I/N).
func parseShardFlag(c *cli.Context) (sweep.Shard, string, error) {
	if !c.IsSet("shard") {
		return sweep.Shard{}, "", nil
	}
	s, source, err := sweep.ResolveShard(c.String("shard"), os.Getenv)
	if err != nil {
		return sweep.Shard{}, "", usagef("--%v", err)
	}
	return s, source, nil
}

// sourceNote is " (SOURCE)" for an automatic shard, "" otherwise.
func sourceNote(source string) string {
	if source == "" {
		return ""
	}
	return " (" + source + ")"
}
