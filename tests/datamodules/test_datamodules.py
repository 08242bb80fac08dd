"""NYUv2DataModule and KITTIDataModule: batches, evaluation defaults, splits, argument checks, CLI building."""
from __future__ import annotations

import os
import warnings

import jsonargparse
import numpy as np
import pytest
import torch

from depthzoo.datamodules import KITTIDataModule, NYUv2DataModule
from depthzoo.datasets.errors import DatasetNotFoundError
from depthzoo.datasets.nyu import NYU_FOCAL_PX


def _one(loader):
    return next(iter(loader))


def test_nyu_mat_batches_follow_the_fcrn_protocol(nyu_mat_480):
    path, images, depths, raw = nyu_mat_480
    dm = NYUv2DataModule(str(path), batch_size=2)
    assert (dm.min_depth, dm.max_depth, dm.eval_crop) == (1e-3, 10.0, "eigen_nyu")
    dm.setup("fit")
    assert len(dm.train_dataset) == 3 and len(dm.val_dataset) == 1  # val = the test split by default
    train = _one(dm.train_dataloader())
    assert train["image"].shape == (2, 3, 228, 304) and train["image"].dtype == torch.float32
    assert 0 <= train["image"].min() and train["image"].max() <= 1
    assert train["depth"].shape == (2, 1, 228, 304) and train["depth"].dtype == torch.float32
    assert train["valid"].shape == (2, 1, 228, 304) and train["valid"].dtype == torch.bool
    assert (~train["valid"]).any()  # trained on rawDepths: holes stay masked
    assert (train["depth"][~train["valid"]] == 0).all() and (train["depth"][train["valid"]] > 0).all()
    assert train["index"].dtype == torch.int64
    torch.testing.assert_close(train["focal"], torch.full((2,), NYU_FOCAL_PX / 2, dtype=torch.float64))
    val = _one(dm.val_dataloader())
    assert val["image"].shape == (1, 3, 228, 304)
    assert val["depth"].shape == (1, 1, 480, 640)  # the protocol's GT at full resolution
    np.testing.assert_array_equal(val["depth"][0, 0].numpy(), depths[2])  # filled depths for evaluation
    assert val["valid"].all()
    expected_image = images[2][::2, ::2][6:234, 8:312].transpose(2, 0, 1) / 255.0
    np.testing.assert_allclose(val["image"][0].numpy(), expected_image, atol=1e-6)
    dm.setup("test")
    assert len(dm.test_dataset) == 1 and _one(dm.test_dataloader())["depth"].shape == (1, 1, 480, 640)
    # The training reader resizes to 240x320 while reading and caches; evaluation readers keep full size.
    assert dm.train_dataset.sample_size == (240, 320) and dm.train_dataset.cache.filled() == 2
    assert dm.val_dataset.sample_size == (480, 640) and dm.val_dataset.cache is None
    uncached = NYUv2DataModule(str(path), batch_size=2, cache_train=False)
    uncached.setup("fit")
    assert uncached.train_dataset.cache is None


def test_val_fraction_holds_out_part_of_train(nyu_mat_480):
    dm = NYUv2DataModule(str(nyu_mat_480[0]), batch_size=1, val_fraction=0.34, split_seed=3)
    dm.setup("fit")
    train_positions, val_positions = dm.train_dataset.indices, dm.val_dataset.indices
    assert len(train_positions) == 2 and len(val_positions) == 1
    assert not set(train_positions) & set(val_positions)
    assert dm.val_dataset.dataset.depth_key == "depths" and dm.train_dataset.dataset.depth_key == "rawDepths"
    val = _one(dm.val_dataloader())
    assert val["depth"].shape == (1, 1, 480, 640)
    same = NYUv2DataModule(str(nyu_mat_480[0]), batch_size=1, val_fraction=0.34, split_seed=3)
    same.setup("fit")
    assert same.val_dataset.indices == val_positions  # deterministic by seed


def test_eval_dataloaders_use_the_eval_sampler(nyu_mat_480, monkeypatch):
    import depthzoo.datamodules.samplers as samplers

    dm = NYUv2DataModule(str(nyu_mat_480[0]), batch_size=1, val_fraction=0.5)
    dm.setup("fit")
    assert dm.val_dataloader().sampler.__class__.__name__ == "SequentialSampler"  # not distributed
    monkeypatch.setattr(samplers, "make_eval_sampler", lambda d: samplers.DistributedEvalSampler(d, 2, 1))
    indices = [int(b["index"]) for b in dm.val_dataloader()]
    assert indices == [dm.val_dataset.indices[1]]  # rank 1 of 2 gets the second of the two samples


def test_nyu_argument_checks(nyu_mat_480, tmp_path):
    with pytest.raises(ValueError, match=r"\['train_depth'\] apply to the .mat formats only"):
        NYUv2DataModule(str(tmp_path), format="sync", train_depth="depths")
    with pytest.raises(ValueError, match=r"\['train_list', 'test_root'\] apply to format='sync' only"):
        NYUv2DataModule(str(nyu_mat_480[0]), train_list="a.txt", test_root="b")
    with pytest.raises(ValueError, match="format must be"):
        NYUv2DataModule(str(tmp_path), format="h5")
    with pytest.raises(ValueError, match="val_fraction"):
        NYUv2DataModule(str(tmp_path), val_fraction=1.0)
    dm = NYUv2DataModule(str(tmp_path / "missing.mat"))
    with pytest.raises(DatasetNotFoundError, match="missing.mat"):
        dm.setup("fit")
    dm = NYUv2DataModule(str(nyu_mat_480[0]), batch_size=8)
    dm.setup("fit")
    with pytest.raises(ValueError, match="3 samples, fewer than batch_size=8"):
        dm.train_dataloader()
    with pytest.raises(RuntimeError, match=r"setup\('test'\)"):
        dm.test_dataloader()


def test_nyu_sync_datamodule(nyu_sync):
    dm = NYUv2DataModule(
        str(nyu_sync.root),
        format="sync",
        train_list=str(nyu_sync.train_list),
        test_list=str(nyu_sync.test_list),
        resize=(48, 64),
        input_size=(40, 56),
        batch_size=2,
    )
    dm.setup("fit")
    train = _one(dm.train_dataloader())
    assert train["image"].shape == (2, 3, 40, 56) and train["depth"].shape == (2, 1, 40, 56)
    val = _one(dm.val_dataloader())
    assert val["image"].shape == (2, 3, 40, 56) and val["depth"].shape == (2, 1, 48, 64)
    expected = np.stack(nyu_sync.test_depth_mm[:2]).astype(np.float32) / np.float32(1000)
    np.testing.assert_array_equal(val["depth"][:, 0].numpy(), expected)
    torch.testing.assert_close(val["focal"], torch.full((2,), 518.8579, dtype=torch.float64))


def test_kitti_datamodule(kitti):
    dm = KITTIDataModule(
        str(kitti.raw_root), str(kitti.gt_root), str(kitti.list_file), str(kitti.list_file), batch_size=2
    )
    assert (dm.min_depth, dm.max_depth, dm.eval_crop) == (1e-3, 80.0, "garg")
    with pytest.warns(UserWarning, match="2 of 5 lines have no ground truth"):
        dm.setup("fit")
    train = _one(dm.train_dataloader())
    assert train["image"].shape == (2, 3, 352, 704) and train["depth"].shape == (2, 1, 352, 704)
    val = _one(dm.val_dataloader())
    assert val["image"].shape == (2, 3, 352, 1216) and val["depth"].shape == (2, 1, 352, 1216)
    first = kitti.gt_units[1][23 : 23 + 352, 13 : 13 + 1216].astype(np.float32) / np.float32(256)
    np.testing.assert_array_equal(val["depth"][0, 0].numpy(), first)
    np.testing.assert_array_equal(val["valid"][0, 0].numpy(), first > 0)


def test_kitti_resized_network_input_keeps_the_kb_gt(kitti):
    dm = KITTIDataModule(
        str(kitti.raw_root),
        str(kitti.gt_root),
        str(kitti.list_file),
        str(kitti.list_file),
        batch_size=1,
        resize=(176, 608),
        input_size=(176, 304),
    )
    with pytest.warns(UserWarning):
        dm.setup("fit")
    assert _one(dm.train_dataloader())["image"].shape == (1, 3, 176, 304)
    val = _one(dm.val_dataloader())
    assert val["image"].shape == (1, 3, 176, 608) and val["depth"].shape == (1, 1, 352, 1216)
    assert float(val["focal"][0]) == pytest.approx(721.5377 / 2)


@pytest.mark.parametrize("cls", [NYUv2DataModule, KITTIDataModule])
def test_datamodules_build_from_a_cli_config(cls, tmp_path):
    parser = jsonargparse.ArgumentParser(exit_on_error=False)
    parser.add_class_arguments(cls, "data")
    args = ["--data.batch_size=3", "--data.input_size=[64, 96]", "--data.resize=null"]
    args += ["--data.root", str(tmp_path)] if cls is NYUv2DataModule else ["--data.raw_root=a", "--data.gt_root=b"]
    config = parser.parse_args(args)
    instantiate = getattr(parser, "instantiate", None) or parser.instantiate_classes  # renamed in 4.49
    dm = instantiate(config).data
    assert isinstance(dm, cls) and dm.batch_size == 3
    assert dm.train_transform.input_size == (64, 96) and dm.train_transform.resize is None
    with pytest.raises(jsonargparse.ArgumentError):
        parser.parse_args(args + ["--data.batchsize=2"])  # a typo is an error, not silently ignored


def test_synthetic_file_is_generated_once_by_prepare_data(tmp_path):
    pytest.importorskip("depthzoo.synthetic.rooms")
    path = tmp_path / "cache" / "synthetic.mat"
    kwargs = dict(format="synthetic", synthetic_num=6, synthetic_size=(48, 64), resize=None, input_size=(40, 56))
    dm = NYUv2DataModule(str(path), batch_size=2, **kwargs)
    with pytest.raises(DatasetNotFoundError, match=r"(?s)synthetic.*prepare_data"):
        dm.setup("fit")
    dm.prepare_data()
    assert path.is_file()
    stamp = os.stat(path).st_mtime_ns
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dm.prepare_data()
    assert os.stat(path).st_mtime_ns == stamp
    dm.setup("fit")
    assert len(dm.train_dataset) + len(dm.val_dataset) == 6
    train = _one(dm.train_dataloader())
    assert train["image"].shape == (2, 3, 40, 56)
    val = _one(dm.val_dataloader())
    assert val["depth"].shape[-2:] == (48, 64) and val["image"].shape[-2:] == (40, 56)
    with pytest.warns(UserWarning, match="exists with 6 images of 48x64; it is used as it is"):
        NYUv2DataModule(str(path), **{**kwargs, "synthetic_num": 10}).prepare_data()


def test_fit_and_test_run_in_lightning(tmp_path):
    pytest.importorskip("depthzoo.synthetic.rooms")
    import lightning.pytorch as pl

    class Tiny(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.head = torch.nn.Conv2d(3, 1, 1)

        def _loss(self, batch):
            pred = torch.nn.functional.interpolate(self.head(batch["image"]), size=batch["depth"].shape[-2:])
            return (pred - batch["depth"])[batch["valid"]].abs().mean()

        def training_step(self, batch, _):
            return self._loss(batch)

        def validation_step(self, batch, _):
            self.log("val_loss", self._loss(batch), batch_size=batch["image"].shape[0])

        def test_step(self, batch, _):
            self.log("test_loss", self._loss(batch), batch_size=batch["image"].shape[0])

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.01)

    dm = NYUv2DataModule(
        str(tmp_path / "syn.mat"), format="synthetic", synthetic_num=6, synthetic_size=(48, 64),
        resize=None, input_size=(40, 56), batch_size=2,
    )
    trainer = pl.Trainer(
        max_epochs=1, accelerator="cpu", logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path,
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*does not have many workers.*")
        warnings.filterwarnings("ignore", ".*smaller than the logging interval.*")
        trainer.fit(Tiny(), datamodule=dm)
        (result,) = trainer.test(Tiny(), datamodule=dm, verbose=False)
    assert (tmp_path / "syn.mat").is_file() and np.isfinite(result["test_loss"])


def test_train_median_depth_matches_numpy_median_to_the_millimetre(nyu_mat_480):
    from depthzoo.datamodules import NYUv2DataModule

    path, _, _, raw = nyu_mat_480
    module = NYUv2DataModule(str(path), format="mat")
    train = raw[[0, 1, 3]]  # embedded split: train = 1, 2, 4 (1-based); training depth = rawDepths
    values = np.rint(train[np.isfinite(train) & (train > 0)].astype(np.float64) * 1000) / 1000
    assert module.train_median_depth() == pytest.approx(float(np.median(values)), abs=1e-9)
