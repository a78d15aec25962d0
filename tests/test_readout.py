import numpy as np
import pytest

from readout.assignment import UNASSIGNED, assign_labels, class_mean_counts, predict


def test_assignment_on_hand_made_counts():
    # neuron 0 fires for class 1, neuron 1 for class 0, neuron 2 never fires
    counts = np.array([[0, 5, 0], [1, 4, 0], [6, 0, 0], [3, 1, 0]])
    labels = np.array([1, 1, 0, 0])
    means = class_mean_counts(counts, labels, n_classes=2)
    assert np.allclose(means, [[4.5, 0.5, 0], [0.5, 4.5, 0]])
    a = assign_labels(counts, labels, n_classes=2)
    assert a[0] == 0 and a[1] == 1 and a[2] == UNASSIGNED


def test_prediction_is_class_with_highest_mean_assigned_count():
    assignments = np.array([0, 0, 1, 2, UNASSIGNED])
    counts = np.array([
        [4, 0, 3, 0, 99],   # class 0 mean 2, class 1 mean 3 -> 1 (unassigned ignored)
        [4, 4, 3, 0, 0],    # class 0 mean 4 -> 0
        [0, 0, 0, 1, 0],    # -> 2
    ])
    assert list(predict(counts, assignments, n_classes=3)) == [1, 0, 2]


def test_assignment_rejects_mismatched_shapes():
    with pytest.raises(ValueError):
        assign_labels(np.zeros((3, 2)), np.zeros(4, int))
