"""Run logging: TensorBoard scalars, a CSV with one row per update (same names, plus global_step), and a
tqdm progress bar over env steps."""
from __future__ import annotations

import csv
import os
from typing import Dict, List, Optional


class RunLogger:
    def __init__(self, run_dir: str, total_steps: int, start_step: int = 0, progress: bool = True,
                 tensorboard: bool = True) -> None:
        self.csv_path = os.path.join(run_dir, "metrics.csv")
        self.rows: List[Dict[str, float]] = self._read_csv(self.csv_path)
        self.writer = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(os.path.join(run_dir, "tb"))
        self.bar = None
        if progress:
            from tqdm import tqdm

            self.bar = tqdm(total=total_steps, initial=start_step, unit="step", dynamic_ncols=True,
                            desc="env steps")

    @staticmethod
    def _read_csv(path: str) -> List[Dict[str, float]]:
        if not os.path.exists(path):
            return []
        with open(path, newline="") as f:
            return [{k: float(v) for k, v in row.items() if v not in ("", None)} for row in csv.DictReader(f)]

    def advance(self, steps: int, sps: Optional[float] = None) -> None:
        if self.bar is not None:
            self.bar.update(steps)
            if sps is not None:
                self.bar.set_postfix(SPS="%.0f" % sps)

    def log(self, global_step: int, scalars: Dict[str, float]) -> None:
        """One update's scalars: to TensorBoard and as one CSV row (the file is rewritten atomically)."""
        if self.writer is not None:
            for name, value in scalars.items():
                self.writer.add_scalar(name, value, global_step)
            self.writer.flush()
        # A resumed run replaces rows from beyond its checkpoint.
        self.rows = [r for r in self.rows if r.get("global_step", -1) < global_step]
        self.rows.append(dict(scalars, global_step=float(global_step)))
        columns = ["global_step"] + sorted({k for r in self.rows for k in r} - {"global_step"})
        tmp = self.csv_path + ".tmp"
        with open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            for r in self.rows:
                writer.writerow(r)
        os.replace(tmp, self.csv_path)

    def write(self, message: str) -> None:
        if self.bar is not None:
            self.bar.write(message)
        else:
            print(message, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        if self.writer is not None:
            self.writer.close()
