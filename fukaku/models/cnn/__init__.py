"""Convolutional networks — seed 000 §6.2, seed 001 §9.2, seed 002 ch. 3, seed 004 §3.3 — one file per
architecture, each built from ``fukaku.nn`` layers with PyTorch's module names, so a state dict moves
between a model here and the same model written in PyTorch.

- :class:`LeNet5` — LeCun et al. 1998, the CNN of seed 002 ch. 3 (``lenet.py``);
- :class:`AlexNet` — Krizhevsky et al. 2012: ReLU, dropout, LRN, overlapping pooling; sized for 32×32
  (``alexnet.py``);
- :class:`VGG` and ``vgg11/13/16/19`` — stacks of 3×3 convolutions (``vgg.py``);
- :class:`ResNet` with :class:`BasicBlock` / :class:`Bottleneck`, the CIFAR networks ``resnet20/32/44/56/110``
  and their plain twins ``plain20/…/110`` (He et al. 2016 §4.2, option A shortcuts) (``resnet.py``);
- :class:`UNet` — the encoder–decoder with skip connections for segmentation (``unet.py``);
- :class:`WaveNet` with :class:`CausalConv1d` — a dilated causal 1-D CNN for time series (``wavenet.py``);
- :class:`MobileNet` with :class:`DepthwiseSeparableConv2d` — the lightweight net (``mobilenet.py``);
- :class:`NonLocalBlock2d` — self-attention over a feature map (Wang et al. 2018; seed 000 §6.3)
  (``nonlocal_block.py``).

- :class:`Neocognitron` with :class:`SLayer` — Fukushima's S/C-layer network of seed 002 ch. 3, grown
  without labels by the Add-if-Silent rule (``neocognitron.py``);
- :class:`SimpleCells`, :class:`ComplexCells` — the Hubel–Wiesel cells it grew from: oriented Gabor
  filters, and their maximum over positions (``cells.py``).
"""
from .alexnet import AlexNet
from .cells import ComplexCells, SimpleCells, bar_images, gabor_kernel, orientation_angles, simple_cell_filters
from .lenet import LeNet5
from .mobilenet import DepthwiseSeparableConv2d, MobileNet
from .neocognitron import Neocognitron, SLayer
from .nonlocal_block import NonLocalBlock2d
from .resnet import (BasicBlock, Bottleneck, ResNet, ZeroPadShortcut, cifar_resnet, plain20, plain32, plain44, plain56,
                     plain110, resnet20, resnet32, resnet44, resnet56, resnet110)
from .unet import DoubleConv, UNet
from .vgg import VGG, vgg11, vgg13, vgg16, vgg19
from .wavenet import CausalConv1d, WaveNet, WaveNetBlock

__all__ = ["LeNet5", "AlexNet", "VGG", "vgg11", "vgg13", "vgg16", "vgg19",
           "BasicBlock", "Bottleneck", "ZeroPadShortcut", "ResNet", "cifar_resnet",
           "resnet20", "resnet32", "resnet44", "resnet56", "resnet110",
           "plain20", "plain32", "plain44", "plain56", "plain110",
           "UNet", "DoubleConv", "CausalConv1d", "WaveNetBlock", "WaveNet",
           "DepthwiseSeparableConv2d", "MobileNet", "NonLocalBlock2d",
           "Neocognitron", "SLayer", "SimpleCells", "ComplexCells", "gabor_kernel", "orientation_angles",
           "simple_cell_filters", "bar_images"]
