"""The built-in sample: a small, deterministic dataset in the Kaggle asl-signs raw layout, with signs a model can learn.

Each sign is a fixed motion of the dominant hand (where it happens, the path it takes, the hand shape and how it
changes, the mouthing, sometimes a second hand), derived from the sign's position in the official sign list, so
adding a sign never changes another. Participants, drawn from the seed, differ in body size and position in the
picture, speed, handedness, how often a hand leaves the view and a little in how they sign; each recording adds its
own noise. Coordinates are made for a right-handed signer in a canonical body (image coordinates of a signer centred
at x = 0.5, y pointing down, signer's right on the image's left) and mirrored for left-handed signers.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from asl.data.parallel import map_in_order
from asl.data.raw import INDEX_COLUMNS, INDEX_FILE, LANDMARK_DIR, SIGN_MAP_FILE, landmark_table
from asl.data.sign_names import GISLR_SIGNS
from asl.errors import AslError
from asl.io import remove_stale_temporaries
from asl.landmarks import LIP_POINTS, ROWS_PER_FRAME, frame_layout, part_rows
from asl.params import SampleConfig

SIGN_SALT = 0x5A3F1E  # mixed into each sign's generator, so sign motions do not depend on the dataset seed
FIRST_FRAMES = (10, 200)  # Kaggle frame numbers do not start at 0
MAX_FRAME_NUMBER = np.iinfo(np.int16).max
LONGEST_IDLE = 16  # the longest idle recordings last this many times the sign's own motion (capped by max_frames)
# zstd, and no dictionary for the coordinates (all distinct): half the size of Kaggle's snappy files, same schema.
PARQUET_OPTIONS = dict(compression="zstd", use_dictionary=["frame", "row_id", "type", "landmark_index"])

# The canonical body (a right-handed signer at scale 1), in image coordinates.
FACE_CENTRE = np.array([0.5, 0.415])
FACE_WIDTH = 0.29
HAND_SIZE = 0.12  # wrist to middle-finger knuckle
RIGHT_SHOULDER = np.array([0.225, 0.655])
#: Where the hand centre (middle-finger knuckle) of each kind of sign is.
ANCHORS = np.array([
    [0.50, 0.30],  # forehead
    [0.37, 0.33],  # temple
    [0.45, 0.39],  # eye
    [0.37, 0.46],  # cheek
    [0.50, 0.50],  # mouth
    [0.50, 0.59],  # chin
    [0.50, 0.80],  # chest
    [0.68, 0.69],  # opposite shoulder
    [0.34, 0.78],  # neutral space
    [0.40, 0.94],  # low
])
PATHS = ("circle", "oscillate", "move", "arc", "tap", "toward", "zigzag", "hold")

# The hand model, in hand sizes, for a right hand with the palm to the camera and the fingers up (y down, thumb
# towards +x): the base of each finger (thumb CMC or knuckle), its three segments and its splay from vertical.
FINGER_BASES = np.array([[0.22, -0.22], [0.32, -0.95], [0.08, -1.0], [-0.13, -0.93], [-0.32, -0.80]])
FINGER_SEGMENTS = np.array([
    [0.38, 0.32, 0.26], [0.42, 0.25, 0.21], [0.47, 0.28, 0.22], [0.43, 0.26, 0.21], [0.33, 0.20, 0.19],
])
FINGER_SPLAY = np.array([0.8, 0.16, 0.0, -0.14, -0.30])
JOINT_BEND = np.array([1.3, 1.5, 1.0])  # radians per joint of a fully curled finger

# Pose points 0-10 (nose; left eye x3, right eye x3; ears; mouth corners) around the face centre, in face widths.
POSE_HEAD = np.array([
    [0.0, 0.02], [0.13, -0.14], [0.22, -0.14], [0.30, -0.13], [-0.13, -0.14], [-0.22, -0.14], [-0.30, -0.13],
    [0.43, -0.04], [-0.43, -0.04], [0.16, 0.20], [-0.16, 0.20],
])
# Pose points 23-32 (hips, knees, ankles, heels, feet) of the right side; the left side mirrors them.
POSE_LOWER_RIGHT = np.array([[0.33, 1.25], [0.34, 1.75], [0.34, 2.20], [0.33, 2.28], [0.38, 2.35]])
ARM_POINTS = {"right": [12, 14, 16, 18, 20, 22], "left": [11, 13, 15, 17, 19, 21]}  # shoulder, elbow, wrist, hand

#: Where the sample stage writes the sample (dvc.yaml); a checkpoint trained from here knows only its signs.
SAMPLE_DIR = Path("data/raw/sample")


@dataclass(frozen=True, eq=False)
class SignMotion:
    """How one sign is made by a right-handed signer; `SignMotion.of(name)` derives it from the sign list."""

    anchor: np.ndarray
    path: str
    amplitude: float
    direction: float
    repeats: int
    curl_start: np.ndarray
    curl_end: np.ndarray
    shape_repeats: int  # 0: the shape changes once from start to end; k: it alternates k times
    spread: float
    roll: float
    roll_swing: float
    yaw: float
    mouth_open: float
    mouth_round: float
    mouth_repeats: int
    head_nod: float
    second_hand: str  # "": at rest; "mirror": mirrors the dominant hand; "base": a still flat hand acted on
    frames: float  # typical length at speed 1

    @classmethod
    def of(cls, sign: str) -> SignMotion:
        rng = np.random.default_rng([SIGN_SALT, GISLR_SIGNS.index(sign)])
        second_hand = str(rng.choice(["", "", "", "", "mirror", "base"]))
        anchor = ANCHORS[rng.integers(len(ANCHORS))] + rng.normal(0, 0.015, 2)
        if second_hand == "mirror":
            anchor[0] = min(anchor[0], 0.38)  # the two hands stay apart
        elif second_hand == "base":
            anchor = np.array([0.5, 0.76]) + rng.normal(0, 0.015, 2)
        curl_start = _hand_shape(rng)
        curl_end = _hand_shape(rng) if rng.random() < 0.5 else curl_start
        return cls(
            anchor=anchor, path=str(rng.choice(PATHS)), amplitude=rng.uniform(0.06, 0.13),
            direction=rng.uniform(0, 2 * np.pi), repeats=int(rng.integers(1, 4)),
            curl_start=curl_start, curl_end=curl_end, shape_repeats=int(rng.choice([0, 0, 1, 2])),
            spread=rng.uniform(0, 1), roll=rng.uniform(-0.6, 0.6),
            roll_swing=rng.uniform(0, 0.7) * (rng.random() < 0.4),
            yaw=rng.uniform(-0.9, 0.9), mouth_open=rng.uniform(0, 0.07), mouth_round=rng.uniform(0, 1),
            mouth_repeats=int(rng.integers(1, 3)), head_nod=rng.uniform(0, 0.012) * (rng.random() < 0.3),
            second_hand=second_hand, frames=rng.uniform(22, 42),
        )


@dataclass(frozen=True, eq=False)
class Participant:
    """One signer: who they are, their body in the picture and their signing style."""

    participant_id: str
    index: int
    left_handed: bool
    scale: float
    offset: np.ndarray
    shoulder_width: float
    face_size: float
    speed: float
    amplitude: float
    anchor_shift: np.ndarray
    roll: float
    curl_bias: np.ndarray
    mouthing: float
    other_hand_visible: float  # probability that the resting hand shows in a recording
    gap_rate: float  # short dropouts of the dominant hand per 40 frames


def generate_sample(out_dir: Path, config: SampleConfig, seed: int, workers: int = 1) -> None:
    """Write the built-in sample into `out_dir` (replacing it) in the Kaggle asl-signs layout.

    The same config and seed give byte-identical files, whatever the number of worker processes. The dataset is
    written into a temporary sibling folder and renamed onto `out_dir` at the end, so an interrupted run leaves no
    half dataset.
    """
    check_sample_config(config)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise AslError(f"seed must be a non-negative integer, got {seed!r}")
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out_dir)
    work = out_dir.with_name(f".{out_dir.name}.tmp-{os.getpid()}")  # asl.io's name: a rerun removes it
    try:
        work.mkdir()
        _write_sample(work, config, seed, workers)
        _replace_dir(work, out_dir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def check_sample_config(config: SampleConfig) -> None:
    """Raise `AslError` naming the `sample.*` value that cannot make a dataset."""
    if isinstance(config.signs, int):
        if not 1 <= config.signs <= len(GISLR_SIGNS):
            raise AslError(f"sample.signs: a number of signs must be 1 to {len(GISLR_SIGNS)}, got {config.signs}")
    else:
        unknown = [sign for sign in config.signs if sign not in GISLR_SIGNS]
        if unknown:
            raise AslError(
                f"sample.signs: unknown sign {unknown[0]!r}; signs must be names from the competition's "
                f"{SIGN_MAP_FILE} (listed in asl/data/sign_names.py), e.g. {', '.join(GISLR_SIGNS[:3])}"
            )
        if not config.signs or len(set(config.signs)) != len(config.signs):
            raise AslError(f"sample.signs must be a non-empty list without repeats, got {config.signs}")
    for key in ("participants", "sequences_per_sign", "min_frames"):
        if getattr(config, key) < 1:
            raise AslError(f"sample.{key} must be at least 1, got {getattr(config, key)}")
    if config.max_frames < config.min_frames:
        raise AslError(f"sample.max_frames ({config.max_frames}) is below sample.min_frames ({config.min_frames})")
    if config.max_frames + FIRST_FRAMES[1] > MAX_FRAME_NUMBER:
        limit = MAX_FRAME_NUMBER - FIRST_FRAMES[1]
        raise AslError(f"sample.max_frames must be at most {limit} (frame numbers are int16), got {config.max_frames}")


def sample_signs(config: SampleConfig) -> list[str]:
    """The sign names of the sample: those listed, or the first `signs` of the competition's sign map."""
    return list(GISLR_SIGNS[: config.signs]) if isinstance(config.signs, int) else list(config.signs)


def _write_sample(root: Path, config: SampleConfig, seed: int, workers: int) -> None:
    participants = _participants(config.participants, seed)
    sign_map = {sign: label for label, sign in enumerate(GISLR_SIGNS)}
    (root / SIGN_MAP_FILE).write_text(json.dumps(sign_map))
    signs = sample_signs(config)
    write = functools.partial(_write_recording, root=root, config=config, seed=seed,
                              motions={sign: SignMotion.of(sign) for sign in signs})
    plan = _recording_plan(participants, signs, config.sequences_per_sign, seed)
    rows = list(map_in_order(write, plan, len(plan), workers, "sample", chunk_size=32))
    index = pd.DataFrame(rows, columns=list(INDEX_COLUMNS))
    index = index.sort_values("sequence_id", kind="stable")  # by id as text, like Kaggle's train.csv
    index.to_csv(root / INDEX_FILE, index=False)


def _recording_plan(participants: list[Participant], signs: list[str], sequences_per_sign: int,
                    seed: int) -> list[tuple[Participant, str, int, int]]:
    """(participant, sign, repetition, sequence id) of every recording: a sign's recordings go round the
    participants in turn, starting from a participant that depends on the sign. Ids are drawn here, in one process,
    so that they are unique and do not depend on workers."""
    plan, used_ids = [], set()
    for participant in participants:
        for sign in signs:
            turn = (participant.index - GISLR_SIGNS.index(sign)) % len(participants)  # each sign starts elsewhere
            share = (sequences_per_sign - turn + len(participants) - 1) // len(participants)
            for rep in range(share):
                sequence_id = _unique(int(_recording_rng(seed, participant, sign, rep).integers(10**6, 2**32 - 1)),
                                      used_ids)
                plan.append((participant, sign, rep, sequence_id))
    return plan


def _recording_rng(seed: int, participant: Participant, sign: str, rep: int) -> np.random.Generator:
    """The random stream of one recording: its first draw is the sequence id, the rest make the recording."""
    return np.random.default_rng([seed, 3, participant.index, GISLR_SIGNS.index(sign), rep])


def _write_recording(task: tuple[Participant, str, int, int], root: Path, config: SampleConfig, seed: int,
                     motions: dict[str, SignMotion]) -> tuple[str, str, str, str]:
    """Write one recording's parquet file; returns its row of the index."""
    participant, sign, rep, sequence_id = task
    rng = _recording_rng(seed, participant, sign, rep)
    rng.integers(10**6, 2**32 - 1)  # the sequence id, drawn by the plan
    path = f"{LANDMARK_DIR}/{participant.participant_id}/{sequence_id}.parquet"
    values = _recording(motions[sign], participant, config, rng)
    first_frame = int(rng.integers(FIRST_FRAMES[0], FIRST_FRAMES[1] + 1))
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(_landmark_table(first_frame, values), root / path, **PARQUET_OPTIONS)
    return path, participant.participant_id, str(sequence_id), sign


def _replace_dir(source: Path, target: Path) -> None:
    """Move the finished `source` onto `target`, replacing any old `target` only once the new one is complete."""
    old = None
    if target.exists():
        old = source.with_name(source.name + ".old")
        old.mkdir()
        os.replace(target, old / target.name)
    os.replace(source, target)
    if old is not None:
        shutil.rmtree(old)


def _unique(value: int, used: set[int]) -> int:
    while value in used:
        value += 1
    used.add(value)
    return value


def _participants(count: int, seed: int) -> list[Participant]:
    """Participants drawn from the seed; about one in five is left-handed (at least one when there are three)."""
    left_handed = set(np.random.default_rng([seed, 2]).permutation(count)[: int(round(0.2 * count))])
    used_ids: set[int] = set()
    return [_participant(index, index in left_handed, seed, used_ids) for index in range(count)]


def _participant(index: int, left_handed: bool, seed: int, used_ids: set[int]) -> Participant:
    rng = np.random.default_rng([seed, 1, index])
    return Participant(
        participant_id=str(_unique(int(rng.integers(10000, 100000)), used_ids)), index=index,
        left_handed=left_handed, scale=rng.uniform(0.85, 1.15), offset=rng.normal(0, [0.04, 0.03]),
        shoulder_width=rng.uniform(0.93, 1.07), face_size=rng.uniform(0.9, 1.1), speed=rng.uniform(0.75, 1.3),
        amplitude=rng.uniform(0.8, 1.2), anchor_shift=rng.normal(0, 0.015, 2), roll=rng.normal(0, 0.12),
        curl_bias=rng.normal(0, 0.06, 5), mouthing=rng.uniform(0.3, 1.3), other_hand_visible=rng.uniform(0, 0.5),
        gap_rate=rng.uniform(0, 1.5),
    )


def _hand_shape(rng: np.random.Generator) -> np.ndarray:
    """Curl of each finger (thumb first), 0 straight to 1 fully bent: mostly straight or bent, as in ASL shapes."""
    extended = rng.random(5) < 0.5
    return np.where(extended, rng.uniform(0, 0.15, 5), rng.uniform(0.6, 1.0, 5))


# --- one recording -------------------------------------------------------------------------------------------------


def _recording(motion: SignMotion, participant: Participant, config: SampleConfig,
               rng: np.random.Generator) -> np.ndarray:
    """The landmarks of one recording, (frames, 543, 3), NaN where a hand is out of view."""
    phase = _phase(motion, participant, config, rng)
    dominant = _dominant_hand(motion, participant, phase, rng)
    other = _other_hand(motion, participant, dominant, phase, rng)
    face, head = _face(motion, participant, phase, rng)
    if participant.left_handed:
        right, left = other, _mirror(dominant)
    else:
        right, left = dominant, _mirror(other)
    pose = _pose(head, participant, right, left)
    values = np.concatenate([face, left, pose, right], axis=1)  # (T, 543, 3) in Holistic order
    values = _place(values, participant, rng)
    values += rng.normal(0, 1, values.shape) * _noise_levels()
    _hide_hands(values, motion, participant, rng)
    return values.astype(np.float32).astype(np.float64)  # MediaPipe computes in float32


def _phase(motion: SignMotion, participant: Participant, config: SampleConfig, rng: np.random.Generator) -> np.ndarray:
    """Progress of the sign (0..1) at each frame: still before and after the motion, a tempo of its own."""
    moving = motion.frames / participant.speed * np.exp(rng.normal(0, 0.15))
    lead, tail = rng.integers(0, 5, 2)
    kind = rng.random()
    if kind < 0.04:  # cut short
        length, lead, tail = int(rng.integers(config.min_frames, config.min_frames + 5)), 0, 0
    elif kind < 0.07:  # hesitates or idles before the sign: the competition's long tail (up to about 500 frames)
        length = int(round(moving * np.exp(rng.uniform(np.log(1.8), np.log(LONGEST_IDLE)))))
        lead = int(rng.integers(0, max(1, int(length - moving))))
        tail = 0
    else:
        length = int(round(moving)) + lead + tail
    length = int(np.clip(length, config.min_frames, config.max_frames))
    moving = max(length - lead - tail, 1)
    progress = np.clip((np.arange(length) - lead) / max(moving - 1, 1), 0, 1)
    return progress ** rng.uniform(0.85, 1.18)


def _path(motion: SignMotion, phase: np.ndarray) -> np.ndarray:
    """Offset of the hand centre from the sign's anchor, in units of the sign's amplitude: (T, 2)."""
    u = np.array([np.cos(motion.direction), np.sin(motion.direction)])
    v = np.array([-u[1], u[0]])
    s = phase * phase * (3 - 2 * phase)  # smooth start and stop
    turns = 2 * np.pi * motion.repeats * s
    along, across = {
        "circle": (np.cos(turns) - 1, np.sin(turns)),
        "oscillate": (np.sin(turns), 0 * s),
        "move": (2 * s - 1, 0 * s),
        "arc": (2 * s - 1, 0.6 * np.sin(np.pi * s)),
        "tap": (0.5 * np.abs(np.sin(np.pi * motion.repeats * s)), 0 * s),
        "toward": (1.5 * (1 - s), 0 * s),
        "zigzag": (2 * s - 1, 0.4 * np.sin(turns)),
        "hold": (0.15 * np.sin(turns), 0 * s),
    }[motion.path]
    return along[:, None] * u + across[:, None] * v


def _dominant_hand(motion: SignMotion, participant: Participant, phase: np.ndarray,
                   rng: np.random.Generator) -> np.ndarray:
    """The signing hand in the canonical body: (T, 21, 3)."""
    amplitude = motion.amplitude * participant.amplitude * (1 + rng.normal(0, 0.08))
    centre = motion.anchor + participant.anchor_shift + rng.normal(0, 0.008, 2) + amplitude * _path(motion, phase)
    change = phase if motion.shape_repeats == 0 else 0.5 - 0.5 * np.cos(2 * np.pi * motion.shape_repeats * phase)
    curl = motion.curl_start + change[:, None] * (motion.curl_end - motion.curl_start)
    curl = np.clip(curl + participant.curl_bias + rng.normal(0, 0.04, 5), 0, 1)
    roll = motion.roll + participant.roll + motion.roll_swing * np.sin(2 * np.pi * motion.repeats * phase)
    return _hand(centre, curl, motion.spread, roll, np.full(len(phase), motion.yaw))


def _other_hand(motion: SignMotion, participant: Participant, dominant: np.ndarray, phase: np.ndarray,
                rng: np.random.Generator) -> np.ndarray:
    """The other hand, made as a right hand (it is mirrored onto the other side): (T, 21, 3)."""
    frames = len(phase)
    if motion.second_hand == "mirror":
        return dominant.copy()
    if motion.second_hand == "base":  # flat, palm up, fingers across the body
        centre = np.array([0.44, 0.84]) + rng.normal(0, 0.01, 2)
        return _hand(np.tile(centre, (frames, 1)), np.full((frames, 5), 0.08), 0.2, np.full(frames, 1.3),
                     np.full(frames, 1.1))
    sway = 0.01 * np.sin(2 * np.pi * phase + rng.uniform(0, 2 * np.pi))
    centre = np.array([0.2, 0.98]) + rng.normal(0, 0.015, 2) + sway[:, None]  # resting low, at the frame's edge
    return _hand(centre, np.full((frames, 5), 0.45) + participant.curl_bias, 0.5, np.full(frames, -0.3),
                 np.full(frames, 0.6))


def _hand(centre: np.ndarray, curl: np.ndarray, spread: float, roll: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    """A right hand whose middle-finger knuckle is at `centre` (T, 2): (T, 21, 3), z relative to the wrist."""
    splay = FINGER_SPLAY * (0.5 + spread)
    splay = np.where(np.arange(5) == 0, splay - 0.7 * curl, splay)  # (T, 5): a bent thumb crosses the palm
    bend = np.cumsum(curl[..., None] * JOINT_BEND, axis=-1)  # (T, 5, 3)
    direction = np.stack([
        np.sin(splay)[..., None] * np.cos(bend), -np.cos(splay)[..., None] * np.cos(bend), -np.sin(bend),
    ], axis=-1)  # (T, 5, 3 joints, 3)
    bases = np.broadcast_to(np.append(FINGER_BASES, np.zeros((5, 1)), axis=1), direction.shape[:2] + (3,))
    joints = bases[:, :, None] + np.cumsum(FINGER_SEGMENTS[..., None] * direction, axis=2)
    fingers = np.concatenate([bases[:, :, None], joints], axis=2).reshape(len(curl), 20, 3)
    points = np.concatenate([np.zeros((len(curl), 1, 3)), fingers], axis=1)  # (T, 21, 3), wrist first
    x, y, z = points[..., 0], points[..., 1], points[..., 2]
    cy, sy, cr, sr = np.cos(yaw)[:, None], np.sin(yaw)[:, None], np.cos(roll)[:, None], np.sin(roll)[:, None]
    x, z = x * cy + z * sy, z * cy - x * sy  # turn the palm
    x, y = x * cr - y * sr, x * sr + y * cr  # tilt in the picture
    points = np.stack([x, y, z], axis=-1) * HAND_SIZE
    points[..., :2] += centre[:, None] - points[:, 9:10, :2]
    return points


def _face(motion: SignMotion, participant: Participant, phase: np.ndarray,
          rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The face mesh (T, 468, 3) and the head centre (T, 2), with the sign's mouthing and a little head motion."""
    frames = len(phase)
    width = FACE_WIDTH * participant.face_size
    nod = motion.head_nod * np.sin(2 * np.pi * motion.repeats * phase)
    drift = np.cumsum(rng.normal(0, 0.0015, (frames, 2)), axis=0)
    head = FACE_CENTRE + rng.normal(0, 0.01, 2) + drift + np.stack([0 * nod, nod], axis=-1)
    mouth = participant.mouthing * np.sin(np.pi * motion.mouth_repeats * phase) ** 2
    face = np.broadcast_to(_face_template(), (frames, 468, 3)).copy()
    face[:, LIP_POINTS] = _lips(motion.mouth_open * mouth, motion.mouth_round * mouth)
    face *= width
    face[..., :2] += head[:, None]
    return face, head


@functools.cache
def _face_template() -> np.ndarray:
    """468 face-mesh points in face widths around the face centre: an oval with the nose, chin and forehead."""
    i = np.arange(468)
    radius = np.sqrt((i + 0.5) / 468)
    angle = i * np.pi * (3 - np.sqrt(5))  # golden-angle spiral fills the oval evenly
    x, y = 0.5 * radius * np.cos(angle), 0.44 * radius * np.sin(angle) - 0.01
    z = 0.45 * radius**2 - 0.25
    template = np.stack([x, y, z], axis=-1)
    template[[1, 4]] = [[0.0, 0.015, -0.45], [0.0, -0.02, -0.42]]  # nose tip
    template[152], template[10] = [0.0, 0.43, -0.02], [0.0, -0.45, 0.02]  # chin, forehead
    return template


def _lips(opening: np.ndarray, rounding: np.ndarray) -> np.ndarray:
    """The 40 lip points in `LIP_POINTS` order (T, 40, 3): outer upper, outer lower, inner upper, inner lower."""
    theta = np.linspace(np.pi, 0, 11)
    outer = 0.174 * (1 - 0.3 * rounding)[:, None]  # (T, 1): half-width of the mouth
    inner = 0.157 * (1 - 0.35 * rounding)[:, None]
    open_ = opening[:, None]
    sin, cos = np.sin(theta), np.cos(theta)
    parts = [
        (outer * cos, -0.062 * sin - 0.2 * open_ * sin),  # 61 ... 291
        (outer * cos[1:-1], (0.065 + open_) * sin[1:-1]),  # 146 ... 375
        (inner * cos[:-1], -0.013 * sin[:-1] - 0.2 * open_ * sin[:-1]),  # 78 ... 415
        (inner * cos[1:-1], (0.013 + open_) * sin[1:-1]),  # 95 ... 324
        (inner * cos[-1:], 0 * open_),  # 308
    ]
    x = np.concatenate([np.broadcast_to(px, (len(opening), px.shape[1])) for px, _ in parts], axis=1)
    y = np.concatenate([np.broadcast_to(py, x.shape[:1] + py.shape[1:]) for _, py in parts], axis=1) + 0.19
    z = np.broadcast_to(-0.12 - 0.05 * rounding[:, None], x.shape)
    return np.stack([x, y, z], axis=-1)


def _pose(head: np.ndarray, participant: Participant, right: np.ndarray, left: np.ndarray) -> np.ndarray:
    """The 33 pose points (T, 33, 3): head points follow the face, arms reach the hands, the rest stays."""
    frames = len(head)
    pose = np.zeros((frames, 33, 3))
    pose[:, :11, :2] = head[:, None] + POSE_HEAD * FACE_WIDTH * participant.face_size
    pose[:, :11, 2] = -0.3
    lower = POSE_LOWER_RIGHT.copy()
    lower[:, 0] = 0.5 - (0.5 - lower[:, 0]) * participant.shoulder_width
    pose[:, 24::2, :2], pose[:, 23::2, :2] = lower, _mirror_xy(lower)
    shoulder = np.array([0.5 - (0.5 - RIGHT_SHOULDER[0]) * participant.shoulder_width, RIGHT_SHOULDER[1]])
    pose[:, ARM_POINTS["right"]] = _arm(shoulder, right)
    pose[:, ARM_POINTS["left"]] = _mirror(_arm(shoulder, _mirror(left)))
    return pose


def _arm(shoulder: np.ndarray, hand: np.ndarray) -> np.ndarray:
    """Shoulder, elbow, wrist and pose hand points of a right arm reaching `hand`: (T, 6, 3).

    The elbow hangs below the shoulder, drawn a little towards the hand (the forearm points at the camera, so no
    fixed-length arm fits the picture).
    """
    wrist = hand[:, 0, :2]
    raised = np.clip((1.1 - wrist[:, 1]) / 0.5, 0, 1)  # a raised hand is nearer the camera
    elbow = np.stack([shoulder[0] - 0.04 + 0.3 * (wrist[:, 0] - shoulder[0]),
                      shoulder[1] + 0.26 - 0.08 * raised], axis=-1)
    xy = np.stack([np.broadcast_to(shoulder, wrist.shape), elbow, wrist,
                   hand[:, 17, :2], hand[:, 5, :2], hand[:, 2, :2]], axis=1)
    z = np.stack([np.full(len(hand), -0.1), -0.15 * raised, *([-0.3 * raised] * 4)], axis=1)
    return np.concatenate([xy, z[..., None]], axis=-1)


def _mirror(points: np.ndarray) -> np.ndarray:
    """Points mirrored about the canonical body's midline (x = 0.5)."""
    mirrored = points.copy()
    mirrored[..., 0] = 1 - mirrored[..., 0]
    return mirrored


def _mirror_xy(points: np.ndarray) -> np.ndarray:
    return np.stack([1 - points[..., 0], points[..., 1]], axis=-1)


def _place(values: np.ndarray, participant: Participant, rng: np.random.Generator) -> np.ndarray:
    """Move the canonical body to where this participant stands in this recording, at their size."""
    scale = participant.scale * (1 + rng.normal(0, 0.02))
    offset = participant.offset + rng.normal(0, 0.01, 2)
    placed = values.copy()
    placed[..., :2] = (values[..., :2] - 0.5) * scale + 0.5 + offset
    placed[..., 2] *= scale
    return placed


@functools.cache
def _noise_levels() -> np.ndarray:
    """Per-row jitter of the landmark detector (543, 1): a steady face mesh, noisier hands and pose."""
    levels = np.empty((ROWS_PER_FRAME, 1))
    for part, level in (("face", 0.0008), ("left_hand", 0.003), ("pose", 0.004), ("right_hand", 0.003)):
        levels[part_rows(part)] = level
    return levels


def _hide_hands(values: np.ndarray, motion: SignMotion, participant: Participant, rng: np.random.Generator) -> None:
    """Set hands out of view to NaN: short dropouts of the signing hand, a resting hand mostly unseen."""
    frames = len(values)
    dominant, other = ("left_hand", "right_hand") if participant.left_handed else ("right_hand", "left_hand")
    values[np.ix_(~_dropouts(frames, participant.gap_rate, rng), part_rows(dominant))] = np.nan
    if motion.second_hand:
        seen = _dropouts(frames, participant.gap_rate + 0.5, rng)
    elif rng.random() < participant.other_hand_visible:
        start = int(rng.integers(0, frames))
        seen = np.zeros(frames, bool)
        seen[start: start + int(rng.integers(1, frames + 1))] = True
    else:
        seen = np.zeros(frames, bool)
    values[np.ix_(~seen, part_rows(other))] = np.nan


def _dropouts(frames: int, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Frames where a hand is seen: a few missing at the start or end and a few gaps of one to three frames."""
    seen = np.ones(frames, bool)
    edge = max(frames // 6, 0)
    seen[: min(int(rng.choice([0, 0, 0, 1, 2, 3])), edge)] = False
    seen[frames - min(int(rng.choice([0, 0, 0, 0, 1, 2])), edge):] = False
    for _ in range(min(rng.poisson(rate * frames / 40), 3)):
        start = int(rng.integers(0, frames))
        seen[start: start + int(rng.integers(1, 4))] = False
    if not seen.any():
        seen[frames // 2] = True
    return seen


# --- writing ---------------------------------------------------------------------------------------------------------


def _landmark_table(first_frame: int, values: np.ndarray) -> pa.Table:
    """One recording as a table in the Kaggle schema, frames numbered from `first_frame`."""
    return landmark_table(np.arange(first_frame, first_frame + len(values)), values)
