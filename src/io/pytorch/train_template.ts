/**
 * The body of the training script `convstack export --train-script` writes (train_script.ts puts the
 * net's constants above it). It is Python 3 for PyTorch 1.13 or newer, run under torchrun: one process
 * per GPU (NCCL) or per CPU slot (gloo). Each part mirrors the part of `convstack train` it stands for:
 * the image folder and its split (src/data/folder.ts, dataset.ts), the normalisation and augmentation
 * (data/augment.ts, batches.ts), the initialisation (net/init.ts), the optimizers and schedules
 * (train/optimizers, schedules.ts), the auxiliary heads' loss (train/auxiliary.ts) and the model file
 * (train/model_file.ts).
 */
export const TRAIN_TEMPLATE = String.raw`
IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff')
TEST_SPLITS = ('test', 'val', 'validation')
AUX_LOSS_WEIGHT = 0.3  # GoogLeNet's side heads (Szegedy et al. 2015, Section 5), as convstack weighs them


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', required=True, help='folder:<dir> (or <dir>), one sub-folder per class; folder:<dir>,holdout=0.1')
    p.add_argument('--epochs', type=int, default=DEFAULTS['epochs'])
    p.add_argument('--batch', type=int, default=DEFAULTS['batch'], help='images per step over all processes')
    p.add_argument('--optimizer', default=DEFAULTS['optimizer'], choices=['sgd', 'momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam', 'adamw'])
    p.add_argument('--lr', type=float, default=DEFAULTS['lr'])
    p.add_argument('--momentum', type=float)
    p.add_argument('--weight-decay', type=float)
    p.add_argument('--schedule', default=DEFAULTS['schedule'], help='constant, cosine[:<etaMin>], step:<stepSize>[:<gamma>]')
    p.add_argument('--shift', type=int, default=DEFAULTS['shift'], help='random shifts of up to this many pixels')
    p.add_argument('--flip', action='store_true', help='random horizontal flips')
    p.add_argument('--loss', default=DEFAULTS['loss'], choices=['softmax', 'svm'])
    p.add_argument('--seed', type=int, default=DEFAULTS['seed'])
    p.add_argument('--init', default=DEFAULTS['init'], choices=['he', 'pytorch', 'xavier'])
    p.add_argument('--weights', help='start from these weights (safetensors by convstack names, e.g. a convstack model file)')
    p.add_argument('--out', default='model.safetensors', help='the convstack model file written at the end')
    p.add_argument('--checkpoint', help='written by rank 0 after each epoch (default: <out>.checkpoint.pt)')
    p.add_argument('--resume', help='a checkpoint of this script to go on from')
    p.add_argument('--workers', type=int, default=2, help='DataLoader workers per process')
    p.add_argument('--sync-bn', action='store_true', help='BN statistics over all processes (SyncBatchNorm)')
    p.add_argument('--dist-backend', default='auto', choices=['auto', 'nccl', 'gloo'], help='auto: nccl on GPUs, gloo on CPUs')
    return p.parse_args()


class Rng:
    """convstack's seeded generator (mulberry32, src/tensor/rng.ts), for the same held-out split."""

    def __init__(self, seed):
        self.state = seed & 0xFFFFFFFF

    def next(self):
        self.state = (self.state + 0x6D2B79F5) & 0xFFFFFFFF
        t = self.state
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296

    def shuffle(self, items):
        for i in range(len(items) - 1, 0, -1):
            j = int(self.next() * (i + 1))
            items[i], items[j] = items[j], items[i]
        return items


def imul(a, b):
    return (a * b) & 0xFFFFFFFF


def class_images(folder, classes=None):
    """(path, label) of every image under folder/<class>/, classes sorted by name, files by name."""
    found = sorted(d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)) and not d.startswith('.'))
    if not found:
        sys.exit(f'{folder}: no class folders (expected one sub-folder of images per class)')
    names = classes or found
    items = []
    for cls in found:
        if cls not in names:
            sys.exit(f"{os.path.join(folder, cls)}: class '{cls}' is not among the training classes")
        files = sorted(f for f in os.listdir(os.path.join(folder, cls)) if f.lower().endswith(IMAGE_EXTENSIONS) and not f.startswith('.'))
        items += [(os.path.join(folder, cls, f), names.index(cls)) for f in files]
    return items, names


def stratified_split(items, classes, holdout, seed=0):
    """convstack's split of a flat folder (src/data/dataset.ts): each class holds out its share."""
    test_size = max(1, round(len(items) * holdout))
    by_class = [[i for i, (_, label) in enumerate(items) if label == c] for c in range(len(classes))]
    exact = [len(members) * test_size / len(items) for members in by_class]
    quota = [math.floor(e) for e in exact]
    missing = test_size - sum(quota)
    for _, c in sorted(((e - math.floor(e), c) for c, e in enumerate(exact)), key=lambda rc: (-rc[0], rc[1])):
        if missing <= 0:
            break
        quota[c] += 1
        missing -= 1
    rng, is_test = Rng(seed), set()
    for c, members in enumerate(by_class):
        is_test.update(rng.shuffle(list(members))[:quota[c]])
    return [x for i, x in enumerate(items) if i not in is_test], [x for i, x in enumerate(items) if i in is_test]


def open_folder(source):
    """The training and held-out images and the class names of --data, as convstack train reads them."""
    folder = source[len('folder:'):] if source.startswith('folder:') else source
    holdout = 0.2
    if ',holdout=' in folder:
        folder, fraction = folder.rsplit(',holdout=', 1)
        holdout = float(fraction)
    top = [d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d))]
    if 'train' in top:
        test_name = next((s for s in TEST_SPLITS if s in top), None)
        if test_name is None:
            sys.exit(f'{folder}: has train/ but no test/, val/ or validation/ beside it')
        train, classes = class_images(os.path.join(folder, 'train'))
        test, _ = class_images(os.path.join(folder, test_name), classes)
        return train, test, classes
    items, classes = class_images(folder)
    train, test = stratified_split(items, classes, holdout)
    return train, test, classes


def decode(path):
    """An image as (C, H, W) floats in [0, 1]: resized to cover the input and centre-cropped, as convstack does."""
    c, h, w = net_module.INPUT_SHAPE
    image = Image.open(path).convert('L' if c == 1 else 'RGB')
    if image.size != (w, h):
        image = ImageOps.fit(image, (w, h), Image.LANCZOS)
    pixels = torch.from_numpy(np.asarray(image, dtype=np.uint8).copy()).float().div_(255)
    return pixels.unsqueeze(0) if c == 1 else pixels.permute(2, 0, 1).contiguous()


class Images(Dataset):
    """Decoded images, shifted and flipped at random for training, then normalised."""

    def __init__(self, items, normalization, shift=0, flip=False):
        self.items, self.shift, self.flip = items, shift, flip
        self.mean = torch.tensor(normalization['mean']).view(-1, 1, 1)
        self.std = torch.tensor(normalization['std']).view(-1, 1, 1)

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        path, label = self.items[i]
        x = decode(path)
        if self.shift > 0:  # torchvision's RandomCrop(size, padding=shift): a random shift, zeros coming in
            s, (_, h, w) = self.shift, x.shape
            dy, dx = torch.randint(0, 2 * s + 1, (2,)).tolist()
            x = F.pad(x, (s, s, s, s))[:, dy:dy + h, dx:dx + w]
        if self.flip and torch.rand(()) < 0.5:
            x = x.flip(-1)
        return (x - self.mean) / self.std, label


def channel_stats(items, device, rank, world):
    """Each channel's mean and standard deviation over the training images (convstack's channelStats)."""
    c = net_module.INPUT_SHAPE[0]
    sums = torch.zeros(2 * c + 1, dtype=torch.float64)
    for path, _ in items[rank::world]:
        x = decode(path).double().flatten(1)
        sums[:c] += x.sum(1)
        sums[c:2 * c] += (x * x).sum(1)
        sums[-1] += x.shape[1]
    sums = sums.to(device)
    dist.all_reduce(sums)
    sums = sums.cpu()
    mean = sums[:c] / sums[-1]
    std = (sums[c:2 * c] / sums[-1] - mean * mean).clamp(min=0).sqrt()
    return {'mean': mean.tolist(), 'std': [s if s > 0 else 1.0 for s in std.tolist()]}


def initialise(net, scheme):
    """convstack's initialisation (src/net/init.ts): he, pytorch (torch's own) or xavier."""
    if scheme == 'pytorch':
        return
    for name, layer in net.named_modules():
        if not isinstance(layer, (nn.Conv2d, nn.Linear)):
            continue
        fan_in = layer.weight[0].numel()
        if name in CLASSIFIERS:
            nn.init.normal_(layer.weight, 0, 0.1 / math.sqrt(fan_in))
        elif scheme == 'he':
            nn.init.kaiming_normal_(layer.weight, mode='fan_out' if isinstance(layer, nn.Conv2d) else 'fan_in', nonlinearity='relu')
        else:
            nn.init.xavier_uniform_(layer.weight)
        if layer.bias is not None:
            nn.init.zeros_(layer.bias)


def make_optimizer(args, params):
    """torch.optim's optimizer of convstack's name, with convstack's defaults (train/optimizers)."""
    wd = args.weight_decay
    common = {'lr': args.lr, 'weight_decay': wd or 0}
    if args.optimizer in ('sgd', 'momentum', 'nesterov'):
        momentum = 0 if args.optimizer == 'sgd' else (0.9 if args.momentum is None else args.momentum)
        return torch.optim.SGD(params, momentum=momentum, nesterov=args.optimizer == 'nesterov', **common)
    if args.optimizer == 'adagrad':
        return torch.optim.Adagrad(params, **common)
    if args.optimizer == 'rmsprop':
        return torch.optim.RMSprop(params, momentum=args.momentum or 0, **common)
    if args.optimizer == 'adamw':
        return torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01 if wd is None else wd)
    return torch.optim.Adam(params, **common)


def lr_at(schedule, base, epoch, epochs):
    """The rate of an epoch (0-based), torch.optim.lr_scheduler's formulas (train/schedules.ts)."""
    kind, *values = schedule.split(':')
    if kind == 'cosine':
        eta_min = float(values[0]) if values else 0.0
        return eta_min + (base - eta_min) * (1 + math.cos(math.pi * epoch / max(1, epochs))) / 2
    if kind == 'step':
        gamma = float(values[1]) if len(values) > 1 else 0.1
        return base * gamma ** (epoch // int(values[0]))
    return base


def losses(outputs, labels, kind):
    """The main head's loss plus AUX_LOSS_WEIGHT times each auxiliary head's."""
    fn = F.cross_entropy if kind == 'softmax' else F.multi_margin_loss
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    return fn(outputs[0], labels) + sum(AUX_LOSS_WEIGHT * fn(aux, labels) for aux in outputs[1:]), outputs[0]


def accuracy(net, items, normalization, device, rank, world, batch):
    """Top-1 accuracy on the held-out images, each process scoring its share."""
    net.eval()
    counts = torch.zeros(2, dtype=torch.float64, device=device)
    with torch.no_grad():
        for x, y in DataLoader(Images(items[rank::world], normalization), batch_size=batch):
            counts[0] += (net(x.to(device)).argmax(1) == y.to(device)).sum()
            counts[1] += len(y)
    dist.all_reduce(counts)
    net.train()
    return (counts[0] / counts[1].clamp(min=1)).item()


DTYPES = {'F32': torch.float32, 'F64': torch.float64, 'F16': torch.float16, 'I64': torch.int64, 'I32': torch.int32}


def read_safetensors(path):
    """The tensors and metadata of a safetensors file."""
    with open(path, 'rb') as f:
        data = f.read()
    (size,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + size])
    metadata = header.pop('__metadata__', {})
    prefix = 'model.' if 'train_state' in metadata else ''  # a convstack checkpoint keeps the net under model.
    tensors = {}
    for name, info in header.items():
        if name.startswith(prefix):
            start, end = (8 + size + o for o in info['data_offsets'])
            raw = bytearray(data[start:end])
            tensors[name[len(prefix):]] = torch.frombuffer(raw, dtype=DTYPES[info['dtype']]).reshape(info['shape']).clone()
    return tensors, metadata


def write_safetensors(path, tensors, metadata):
    """float32 tensors under their names, with string metadata, through a temporary name."""
    header, chunks, offset = {'__metadata__': metadata}, [], 0
    for name, t in tensors.items():
        raw = t.detach().to('cpu', torch.float32).contiguous().numpy().tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b' ' * (-len(text) % 8)
    with open(path + '.tmp', 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(chunks))
    os.replace(path + '.tmp', path)


def convstack_state(net):
    """The state_dict by convstack's names: BN's num_batches_tracked, which convstack has no use for, left out."""
    return {k: v for k, v in net.state_dict().items() if not k.endswith('num_batches_tracked')}


def start_processes(args):
    """The process group (torchrun's environment, or one process when run alone) and this process's device."""
    os.environ.setdefault('RANK', '0')
    os.environ.setdefault('WORLD_SIZE', '1')
    os.environ.setdefault('LOCAL_RANK', '0')
    os.environ.setdefault('LOCAL_WORLD_SIZE', os.environ['WORLD_SIZE'])
    os.environ.setdefault('MASTER_ADDR', '127.0.0.1')
    os.environ.setdefault('MASTER_PORT', '29500')
    gpu = torch.cuda.is_available() and args.dist_backend != 'gloo'
    dist.init_process_group('nccl' if gpu else 'gloo' if args.dist_backend == 'auto' else args.dist_backend)
    local = int(os.environ['LOCAL_RANK'])
    if gpu:
        torch.cuda.set_device(local)
        return torch.device('cuda', local)
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(os.environ['LOCAL_WORLD_SIZE'])))
    return torch.device('cpu')


def main():
    args = parse_args()
    device = start_processes(args)
    rank, world = dist.get_rank(), dist.get_world_size()
    log = print if rank == 0 else (lambda *a, **k: None)
    if args.batch % world:
        sys.exit(f'--batch {args.batch} does not split over {world} processes; give a multiple of {world}')
    train_items, test_items, classes = open_folder(args.data)
    torch.manual_seed(args.seed)
    net = net_module.Net()
    initialise(net, args.init)
    normalization, start_epoch, init = None, 0, args.init
    if args.weights:
        state, metadata = read_safetensors(args.weights)
        net.load_state_dict(state, strict=True)
        normalization = json.loads(metadata['normalization']) if 'normalization' in metadata else None
        init = metadata.get('init')
    checkpoint = torch.load(args.resume, map_location='cpu') if args.resume else None
    if checkpoint:
        net.load_state_dict(checkpoint['model'])
        normalization, start_epoch, init = checkpoint['normalization'], checkpoint['epoch'], checkpoint.get('init')
    normalization = normalization or channel_stats(train_items, device, rank, world)
    net.eval()
    with torch.no_grad():
        outputs = net(torch.zeros(1, *net_module.INPUT_SHAPE)).shape[1]
    if outputs != len(classes):
        sys.exit(f'the net has {outputs} outputs but {args.data} has {len(classes)} classes; export it with --classes {len(classes)}')
    net.train()
    if args.sync_bn:
        net = nn.SyncBatchNorm.convert_sync_batchnorm(net)
    net.to(device)
    model = DistributedDataParallel(net, device_ids=[device.index] if device.type == 'cuda' else None)
    optimizer = make_optimizer(args, [p for p in net.parameters() if p.requires_grad])
    if checkpoint:
        optimizer.load_state_dict(checkpoint['optimizer'])
    data = Images(train_items, normalization, args.shift, args.flip)
    sampler = DistributedSampler(data, num_replicas=world, rank=rank, shuffle=True, seed=args.seed)
    loader = DataLoader(data, batch_size=args.batch // world, sampler=sampler, num_workers=args.workers, pin_memory=device.type == 'cuda')
    log(f'{len(train_items)} training and {len(test_items)} test images, {len(classes)} classes; {world} processes on {device.type}, {dist.get_backend()}')
    checkpoint_file = args.checkpoint or args.out.removesuffix('.safetensors') + '.checkpoint.pt'
    test_accuracy = float('nan')
    for epoch in range(start_epoch, args.epochs):
        started = time.time()
        sampler.set_epoch(epoch)
        for group in optimizer.param_groups:
            group['lr'] = lr_at(args.schedule, args.lr, epoch, args.epochs)
        total = torch.zeros(2, dtype=torch.float64, device=device)
        for x, y in loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            loss, _ = losses(model(x), y, args.loss)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += torch.stack([loss.detach().double() * len(y), torch.tensor(float(len(y)), dtype=torch.float64, device=device)])
        dist.all_reduce(total)
        test_accuracy = accuracy(net, test_items, normalization, device, rank, world, args.batch // world)
        log(f'epoch {epoch + 1}/{args.epochs}: loss {(total[0] / total[1]).item():.4f}, test accuracy {test_accuracy:.4f}, {time.time() - started:.1f} s')
        if rank == 0:
            state = {'epoch': epoch + 1, 'model': net.state_dict(), 'optimizer': optimizer.state_dict(), 'normalization': normalization, 'classes': classes, 'init': init}
            torch.save(state, checkpoint_file + '.tmp')
            os.replace(checkpoint_file + '.tmp', checkpoint_file)
    # DDP keeps the parameters equal; the BN statistics each process gathered become rank 0's.
    for buffer in net.buffers():
        dist.broadcast(buffer, 0)
    state = convstack_state(net)
    digest = hashlib.sha256(b''.join(t.detach().cpu().contiguous().numpy().tobytes() for t in state.values())).hexdigest()
    print(f'rank {rank}: weights sha256 {digest}', flush=True)
    digests = [None] * world
    dist.all_gather_object(digests, digest)
    if len(set(digests)) != 1:
        sys.exit(f'the processes ended with different weights: {digests}')
    if rank == 0:
        metadata = {**MODEL_METADATA, **({'init': init} if init else {}), 'classes': json.dumps(classes), 'normalization': json.dumps(normalization), 'data': args.data, 'test_accuracy': f'{test_accuracy:.4f}'}
        write_safetensors(args.out, state, metadata)
        log(f'wrote {args.out}; test accuracy: {test_accuracy:.4f}')
    # NOTE: DDP's reducer holds the process group; freed while every rank is still there, gloo's
    # teardown does not wait on a rank that has already gone.
    dist.barrier()
    del model
    dist.destroy_process_group()


if __name__ == '__main__':
    main()
`;
