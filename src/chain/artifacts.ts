// GENERATED FILE, DO NOT EDIT.
// Written by `npx tsx scripts/compile-contracts.ts` from contracts/*.sol
// (solc 0.8.37+commit.f401782d.Emscripten.clang, optimizer 200 runs, evm cancun).
// test/unit/chain/venue-abi.test.ts fails when it is stale.

export const MalformedEmitterArtifact = {
  abi: [
    {
      "inputs": [],
      "name": "FILLED_TOPIC",
      "outputs": [
        {
          "internalType": "bytes32",
          "name": "",
          "type": "bytes32"
        }
      ],
      "stateMutability": "view",
      "type": "function"
    },
    {
      "inputs": [
        {
          "internalType": "bytes32[]",
          "name": "topics",
          "type": "bytes32[]"
        },
        {
          "internalType": "bytes",
          "name": "data",
          "type": "bytes"
        }
      ],
      "name": "emitRaw",
      "outputs": [],
      "stateMutability": "nonpayable",
      "type": "function"
    },
    {
      "inputs": [
        {
          "internalType": "bytes32",
          "name": "marketId",
          "type": "bytes32"
        },
        {
          "internalType": "address",
          "name": "trader",
          "type": "address"
        },
        {
          "internalType": "uint32",
          "name": "subaccount",
          "type": "uint32"
        },
        {
          "internalType": "int256",
          "name": "sizeDelta",
          "type": "int256"
        }
      ],
      "name": "emitShortFill",
      "outputs": [],
      "stateMutability": "nonpayable",
      "type": "function"
    }
  ] as const,
  bytecode: '0x6080604052348015600e575f5ffd5b506103128061001c5f395ff3fe608060405234801561000f575f5ffd5b506004361061003f575f3560e01c80636de6c634146100435780639e738fd31461007c578063b381b9ae14610091575b5f5ffd5b61006a7f8011c4f2ceb9ce832b2b467bfea51d1496d4c214923865b0fb71c9d758e8dcbe81565b60405190815260200160405180910390f35b61008f61008a36600461021f565b6100a4565b005b61008f61009f3660046102ba565b6101a4565b8260048111156100ed5760405162461bcd60e51b815260206004820152601060248201526f6174206d6f7374203420746f7069637360801b604482015260640160405180910390fd5b5f83838080601f0160208091040260200160405190810160405280939291908181526020018383808284375f92019190915250508251929350506020830191905087848015610167576001811461016f576002811461017957600381146101885760608201356040830135602084013584358688a4610198565b8284a0610198565b81358385a1610198565b602082013582358486a2610198565b6040820135602083013583358587a35b50505050505050505050565b5f7f8011c4f2ceb9ce832b2b467bfea51d1496d4c214923865b0fb71c9d758e8dcbe9050815f528284868360205fa45050505050565b5f5f83601f8401126101ea575f5ffd5b50813567ffffffffffffffff811115610201575f5ffd5b602083019150836020828501011115610218575f5ffd5b9250929050565b5f5f5f5f60408587031215610232575f5ffd5b843567ffffffffffffffff811115610248575f5ffd5b8501601f81018713610258575f5ffd5b803567ffffffffffffffff81111561026e575f5ffd5b8760208260051b8401011115610282575f5ffd5b60209182019550935085013567ffffffffffffffff8111156102a2575f5ffd5b6102ae878288016101da565b95989497509550505050565b5f5f5f5f608085870312156102cd575f5ffd5b8435935060208501356001600160a01b03811681146102ea575f5ffd5b9250604085013563ffffffff81168114610302575f5ffd5b939692955092936060013592505056' as const,
};

export const VenueArtifact = {
  abi: [
    {
      "inputs": [],
      "stateMutability": "nonpayable",
      "type": "constructor"
    },
    {
      "inputs": [],
      "name": "NotOwner",
      "type": "error"
    },
    {
      "inputs": [],
      "name": "NotReporter",
      "type": "error"
    },
    {
      "inputs": [],
      "name": "SizeTooLarge",
      "type": "error"
    },
    {
      "inputs": [],
      "name": "ZeroAddress",
      "type": "error"
    },
    {
      "anonymous": false,
      "inputs": [
        {
          "indexed": true,
          "internalType": "address",
          "name": "owner",
          "type": "address"
        },
        {
          "indexed": true,
          "internalType": "uint32",
          "name": "subaccount",
          "type": "uint32"
        },
        {
          "indexed": false,
          "internalType": "uint256",
          "name": "amount",
          "type": "uint256"
        }
      ],
      "name": "Deposited",
      "type": "event"
    },
    {
      "anonymous": false,
      "inputs": [
        {
          "indexed": true,
          "internalType": "bytes32",
          "name": "marketId",
          "type": "bytes32"
        },
        {
          "indexed": true,
          "internalType": "address",
          "name": "owner",
          "type": "address"
        },
        {
          "indexed": true,
          "internalType": "uint32",
          "name": "subaccount",
          "type": "uint32"
        },
        {
          "indexed": false,
          "internalType": "int256",
          "name": "sizeDelta",
          "type": "int256"
        },
        {
          "indexed": false,
          "internalType": "uint256",
          "name": "price",
          "type": "uint256"
        },
        {
          "indexed": false,
          "internalType": "uint256",
          "name": "fee",
          "type": "uint256"
        }
      ],
      "name": "Filled",
      "type": "event"
    },
    {
      "anonymous": false,
      "inputs": [
        {
          "indexed": true,
          "internalType": "bytes32",
          "name": "marketId",
          "type": "bytes32"
        },
        {
          "indexed": true,
          "internalType": "address",
          "name": "owner",
          "type": "address"
        },
        {
          "indexed": true,
          "internalType": "uint32",
          "name": "subaccount",
          "type": "uint32"
        },
        {
          "indexed": false,
          "internalType": "address",
          "name": "liquidator",
          "type": "address"
        },
        {
          "indexed": false,
          "internalType": "int256",
          "name": "sizeDelta",
          "type": "int256"
        },
        {
          "indexed": false,
          "internalType": "uint256",
          "name": "price",
          "type": "uint256"
        },
        {
          "indexed": false,
          "internalType": "uint256",
          "name": "penalty",
          "type": "uint256"
        }
      ],
      "name": "Liquidated",
      "type": "event"
    },
    {
      "anonymous": false,
      "inputs": [
        {
          "indexed": true,
          "internalType": "bytes32",
          "name": "marketId",
          "type": "bytes32"
        },
        {
          "indexed": false,
          "internalType": "uint256",
          "name": "initialMarginFraction",
          "type": "uint256"
        },
        {
          "indexed": false,
          "internalType": "uint256",
          "name": "maintenanceMarginFraction",
          "type": "uint256"
        }
      ],
      "name": "MarginFractionsUpdated",
      "type": "event"
    },
    {
      "anonymous": false,
      "inputs": [
        {
          "indexed": true,
          "internalType": "bytes32",
          "name": "marketId",
          "type": "bytes32"
        },
        {
          "indexed": true,
          "internalType": "bytes32",
          "name": "underlying",
          "type": "bytes32"
        },
        {
          "indexed": false,
          "internalType": "uint8",
          "name": "kind",
          "type": "uint8"
        },
        {
          "indexed": false,
          "internalType": "uint256",
          "name": "strike",
          "type": "uint256"
        },
        {
          "indexed": false,
          "internalType": "uint64",
          "name": "expiry",
          "type": "uint64"
        },
        {
          "indexed": false,
          "internalType": "uint256",
          "name": "initialMarginFraction",
          "type": "uint256"
        },
        {
          "indexed": false,
          "internalType": "uint256",
          "name": "maintenanceMarginFraction",
          "type": "uint256"
        },
        {
          "indexed": false,
          "internalType": "uint64",
          "name": "fundingInterval",
          "type": "uint64"
        },
        {
          "indexed": false,
          "internalType": "uint256",
          "name": "maxFundingRate",
          "type": "uint256"
        }
      ],
      "name": "MarketListed",
      "type": "event"
    },
    {
      "anonymous": false,
      "inputs": [
        {
          "indexed": true,
          "internalType": "bytes32",
          "name": "underlying",
          "type": "bytes32"
        },
        {
          "indexed": true,
          "internalType": "address",
          "name": "source",
          "type": "address"
        },
        {
          "indexed": false,
          "internalType": "uint256",
          "name": "price",
          "type": "uint256"
        }
      ],
      "name": "PriceReported",
      "type": "event"
    },
    {
      "anonymous": false,
      "inputs": [
        {
          "indexed": true,
          "internalType": "bytes32",
          "name": "marketId",
          "type": "bytes32"
        },
        {
          "indexed": false,
          "internalType": "uint256",
          "name": "impliedVolatility",
          "type": "uint256"
        }
      ],
      "name": "VolatilityReported",
      "type": "event"
    },
    {
      "anonymous": false,
      "inputs": [
        {
          "indexed": true,
          "internalType": "address",
          "name": "owner",
          "type": "address"
        },
        {
          "indexed": true,
          "internalType": "uint32",
          "name": "subaccount",
          "type": "uint32"
        },
        {
          "indexed": false,
          "internalType": "uint256",
          "name": "amount",
          "type": "uint256"
        }
      ],
      "name": "Withdrawn",
      "type": "event"
    },
    {
      "inputs": [
        {
          "internalType": "bytes[]",
          "name": "calls",
          "type": "bytes[]"
        }
      ],
      "name": "batch",
      "outputs": [],
      "stateMutability": "nonpayable",
      "type": "function"
    },
    {
      "inputs": [
        {
          "internalType": "uint32",
          "name": "subaccount",
          "type": "uint32"
        },
        {
          "internalType": "uint256",
          "name": "amount",
          "type": "uint256"
        }
      ],
      "name": "deposit",
      "outputs": [],
      "stateMutability": "nonpayable",
      "type": "function"
    },
    {
      "inputs": [
        {
          "internalType": "address",
          "name": "trader",
          "type": "address"
        },
        {
          "internalType": "uint32",
          "name": "sub",
          "type": "uint32"
        },
        {
          "internalType": "uint256",
          "name": "amount",
          "type": "uint256"
        }
      ],
      "name": "depositFor",
      "outputs": [],
      "stateMutability": "nonpayable",
      "type": "function"
    },
    {
      "inputs": [
        {
          "internalType": "bytes32",
          "name": "marketId",
          "type": "bytes32"
        },
        {
          "internalType": "address",
          "name": "trader",
          "type": "address"
        },
        {
          "internalType": "uint32",
          "name": "sub",
          "type": "uint32"
        },
        {
          "internalType": "int256",
          "name": "sizeDelta",
          "type": "int256"
        },
        {
          "internalType": "uint256",
          "name": "price",
          "type": "uint256"
        },
        {
          "internalType": "uint256",
          "name": "fee",
          "type": "uint256"
        }
      ],
      "name": "emitFill",
      "outputs": [],
      "stateMutability": "nonpayable",
      "type": "function"
    },
    {
      "inputs": [
        {
          "internalType": "bytes32",
          "name": "marketId",
          "type": "bytes32"
        },
        {
          "internalType": "address",
          "name": "victim",
          "type": "address"
        },
        {
          "internalType": "uint32",
          "name": "subaccount",
          "type": "uint32"
        },
        {
          "internalType": "address",
          "name": "liquidator",
          "type": "address"
        },
        {
          "internalType": "uint32",
          "name": "liquidatorSub",
          "type": "uint32"
        },
        {
          "internalType": "int256",
          "name": "sizeDelta",
          "type": "int256"
        },
        {
          "internalType": "uint256",
          "name": "price",
          "type": "uint256"
        },
        {
          "internalType": "uint256",
          "name": "penalty",
          "type": "uint256"
        }
      ],
      "name": "liquidate",
      "outputs": [],
      "stateMutability": "nonpayable",
      "type": "function"
    },
    {
      "inputs": [
        {
          "internalType": "bytes32",
          "name": "marketId",
          "type": "bytes32"
        },
        {
          "internalType": "bytes32",
          "name": "underlying",
          "type": "bytes32"
        },
        {
          "internalType": "uint8",
          "name": "kind",
          "type": "uint8"
        },
        {
          "internalType": "uint256",
          "name": "strike",
          "type": "uint256"
        },
        {
          "internalType": "uint64",
          "name": "expiry",
          "type": "uint64"
        },
        {
          "internalType": "uint256",
          "name": "imf",
          "type": "uint256"
        },
        {
          "internalType": "uint256",
          "name": "mmf",
          "type": "uint256"
        },
        {
          "internalType": "uint64",
          "name": "fundingInterval",
          "type": "uint64"
        },
        {
          "internalType": "uint256",
          "name": "maxFundingRate",
          "type": "uint256"
        }
      ],
      "name": "listMarket",
      "outputs": [],
      "stateMutability": "nonpayable",
      "type": "function"
    },
    {
      "inputs": [],
      "name": "owner",
      "outputs": [
        {
          "internalType": "address",
          "name": "",
          "type": "address"
        }
      ],
      "stateMutability": "view",
      "type": "function"
    },
    {
      "inputs": [
        {
          "internalType": "bytes32",
          "name": "underlying",
          "type": "bytes32"
        },
        {
          "internalType": "uint256",
          "name": "price",
          "type": "uint256"
        }
      ],
      "name": "reportPrice",
      "outputs": [],
      "stateMutability": "nonpayable",
      "type": "function"
    },
    {
      "inputs": [
        {
          "internalType": "bytes32",
          "name": "marketId",
          "type": "bytes32"
        },
        {
          "internalType": "uint256",
          "name": "iv",
          "type": "uint256"
        }
      ],
      "name": "reportVolatility",
      "outputs": [],
      "stateMutability": "nonpayable",
      "type": "function"
    },
    {
      "inputs": [
        {
          "internalType": "address",
          "name": "",
          "type": "address"
        }
      ],
      "name": "reporters",
      "outputs": [
        {
          "internalType": "bool",
          "name": "",
          "type": "bool"
        }
      ],
      "stateMutability": "view",
      "type": "function"
    },
    {
      "inputs": [
        {
          "internalType": "address",
          "name": "reporter",
          "type": "address"
        },
        {
          "internalType": "bool",
          "name": "allowed",
          "type": "bool"
        }
      ],
      "name": "setReporter",
      "outputs": [],
      "stateMutability": "nonpayable",
      "type": "function"
    },
    {
      "inputs": [
        {
          "internalType": "bytes32",
          "name": "marketId",
          "type": "bytes32"
        },
        {
          "internalType": "address",
          "name": "buyer",
          "type": "address"
        },
        {
          "internalType": "uint32",
          "name": "buyerSub",
          "type": "uint32"
        },
        {
          "internalType": "address",
          "name": "seller",
          "type": "address"
        },
        {
          "internalType": "uint32",
          "name": "sellerSub",
          "type": "uint32"
        },
        {
          "internalType": "uint256",
          "name": "size",
          "type": "uint256"
        },
        {
          "internalType": "uint256",
          "name": "price",
          "type": "uint256"
        },
        {
          "internalType": "uint256",
          "name": "buyerFee",
          "type": "uint256"
        },
        {
          "internalType": "uint256",
          "name": "sellerFee",
          "type": "uint256"
        }
      ],
      "name": "settleTrade",
      "outputs": [],
      "stateMutability": "nonpayable",
      "type": "function"
    },
    {
      "inputs": [
        {
          "internalType": "address",
          "name": "newOwner",
          "type": "address"
        }
      ],
      "name": "transferOwnership",
      "outputs": [],
      "stateMutability": "nonpayable",
      "type": "function"
    },
    {
      "inputs": [
        {
          "internalType": "bytes32",
          "name": "marketId",
          "type": "bytes32"
        },
        {
          "internalType": "uint256",
          "name": "imf",
          "type": "uint256"
        },
        {
          "internalType": "uint256",
          "name": "mmf",
          "type": "uint256"
        }
      ],
      "name": "updateMarginFractions",
      "outputs": [],
      "stateMutability": "nonpayable",
      "type": "function"
    },
    {
      "inputs": [
        {
          "internalType": "uint32",
          "name": "subaccount",
          "type": "uint32"
        },
        {
          "internalType": "uint256",
          "name": "amount",
          "type": "uint256"
        }
      ],
      "name": "withdraw",
      "outputs": [],
      "stateMutability": "nonpayable",
      "type": "function"
    }
  ] as const,
  bytecode: '0x6080604052348015600e575f5ffd5b505f80546001600160a01b03191633179055610d2a8061002d5f395ff3fe608060405234801561000f575f5ffd5b50600436106100f0575f3560e01c8063aaf1039811610093578063d9edf4bd11610063578063d9edf4bd14610202578063e1bb513314610215578063e7b051e314610228578063f2fde38b1461023b575f5ffd5b8063aaf10398146101b6578063ac05d008146101c9578063af470ed0146101dc578063c9944a55146101ef575f5ffd5b80636b04f86f116100ce5780636b04f86f14610153578063859cdf9b1461016657806387478f60146101795780638da5cb5b1461018c575f5ffd5b80630e19dc3a146100f45780631e897afb146101095780632cc1cd9e1461011c575b5f5ffd5b61010761010236600461090d565b61024e565b005b610107610117366004610935565b610290565b61013e61012a3660046109bc565b60016020525f908152604090205460ff1681565b60405190151581526020015b60405180910390f35b6101076101613660046109dc565b610357565b610107610174366004610a50565b610431565b610107610187366004610a70565b6104ac565b5f5461019e906001600160a01b031681565b6040516001600160a01b03909116815260200161014a565b6101076101c436600461090d565b610525565b6101076101d7366004610a50565b61055f565b6101076101ea366004610aaa565b6105c7565b6101076101fd366004610afe565b61063c565b610107610210366004610b3e565b6106a6565b610107610223366004610bc0565b610748565b610107610236366004610bf9565b61079c565b6101076102493660046109bc565b610883565b60405181815263ffffffff83169033907f25f764a8eeb22885d1bfb45181fbf0991201966ccbf30bc7fcef7f45ab9a5d9f906020015b60405180910390a35050565b5f546001600160a01b031633146102ba576040516330cd747160e01b815260040160405180910390fd5b5f5b81811015610352575f80308585858181106102d9576102d9610c76565b90506020028101906102eb9190610c8a565b6040516102f9929190610cd4565b5f60405180830381855af49150503d805f8114610331576040519150601f19603f3d011682016040523d82523d5f602084013e610336565b606091505b50915091508161034857805160208201fd5b50506001016102bc565b505050565b5f546001600160a01b03163314610381576040516330cd747160e01b815260040160405180910390fd5b604080516001600160a01b038781168252602082018690529181018490526060810183905263ffffffff8816918916908a907fc7bb92fef3d72bcf677fdf0917d655b0d028bbac35ebdf58530067d3bc6ffbae9060800160405180910390a463ffffffff84166001600160a01b038616895f516020610d0a5f395f51905f5261040987610ce3565b60408051918252602082018890525f9082015260600160405180910390a45050505050505050565b5f546001600160a01b0316331480159061045a5750335f9081526001602052604090205460ff16155b156104785760405163e5ce9c0960e01b815260040160405180910390fd5b604051818152339083907fbb03fa969a60b8727bff5d44db564ca270bc6347b149cb535da074771b9a533590602001610284565b5f546001600160a01b031633146104d6576040516330cd747160e01b815260040160405180910390fd5b8163ffffffff16836001600160a01b03167fd11dc631e62c937e2da0403599188765b82b6766dfeb080042e8cebc512850f08360405161051891815260200190565b60405180910390a3505050565b60405181815263ffffffff83169033907fd11dc631e62c937e2da0403599188765b82b6766dfeb080042e8cebc512850f090602001610284565b5f546001600160a01b03163314610589576040516330cd747160e01b815260040160405180910390fd5b817ff9da4d0bb3c8a992672fcd58a7a10b76eb2b09d9e08e0c2a0d5d2ad565996ef2826040516105bb91815260200190565b60405180910390a25050565b5f546001600160a01b031633146105f1576040516330cd747160e01b815260040160405180910390fd5b604080518481526020810184905290810182905263ffffffff8516906001600160a01b0387169088905f516020610d0a5f395f51905f529060600160405180910390a4505050505050565b5f546001600160a01b03163314610666576040516330cd747160e01b815260040160405180910390fd5b604080518381526020810183905284917ffb5068bb46fce1d5de0da73485924f9393d1b031904ad477a64d92262ac6b8c9910160405180910390a2505050565b5f546001600160a01b031633146106d0576040516330cd747160e01b815260040160405180910390fd5b6040805160ff891681526020810188905267ffffffffffffffff878116828401526060820187905260808201869052841660a082015260c08101839052905189918b917f0477b08cb2ef63db854ddf8d217199de220132baa44f971158b3da94f2ed90389181900360e00190a3505050505050505050565b5f546001600160a01b03163314610772576040516330cd747160e01b815260040160405180910390fd5b6001600160a01b03919091165f908152600160205260409020805460ff1916911515919091179055565b5f546001600160a01b031633146107c6576040516330cd747160e01b815260040160405180910390fd5b6001600160ff1b038411156107ee5760405163033de1f160e21b815260040160405180910390fd5b604080518581526020810185905290810183905263ffffffff8816906001600160a01b038a16908b905f516020610d0a5f395f51905f529060600160405180910390a463ffffffff85166001600160a01b0387168a5f516020610d0a5f395f51905f5261085a88610ce3565b6040805191825260208201899052810186905260600160405180910390a4505050505050505050565b5f546001600160a01b031633146108ad576040516330cd747160e01b815260040160405180910390fd5b6001600160a01b0381166108d45760405163d92e233d60e01b815260040160405180910390fd5b5f80546001600160a01b0319166001600160a01b0392909216919091179055565b803563ffffffff81168114610908575f5ffd5b919050565b5f5f6040838503121561091e575f5ffd5b610927836108f5565b946020939093013593505050565b5f5f60208385031215610946575f5ffd5b823567ffffffffffffffff81111561095c575f5ffd5b8301601f8101851361096c575f5ffd5b803567ffffffffffffffff811115610982575f5ffd5b8560208260051b8401011115610996575f5ffd5b6020919091019590945092505050565b80356001600160a01b0381168114610908575f5ffd5b5f602082840312156109cc575f5ffd5b6109d5826109a6565b9392505050565b5f5f5f5f5f5f5f5f610100898b0312156109f4575f5ffd5b88359750610a0460208a016109a6565b9650610a1260408a016108f5565b9550610a2060608a016109a6565b9450610a2e60808a016108f5565b979a969950949793969560a0850135955060c08501359460e001359350915050565b5f5f60408385031215610a61575f5ffd5b50508035926020909101359150565b5f5f5f60608486031215610a82575f5ffd5b610a8b846109a6565b9250610a99602085016108f5565b929592945050506040919091013590565b5f5f5f5f5f5f60c08789031215610abf575f5ffd5b86359550610acf602088016109a6565b9450610add604088016108f5565b959894975094956060810135955060808101359460a0909101359350915050565b5f5f5f60608486031215610b10575f5ffd5b505081359360208301359350604090920135919050565b803567ffffffffffffffff81168114610908575f5ffd5b5f5f5f5f5f5f5f5f5f6101208a8c031215610b57575f5ffd5b8935985060208a0135975060408a013560ff81168114610b75575f5ffd5b965060608a01359550610b8a60808b01610b27565b945060a08a0135935060c08a01359250610ba660e08b01610b27565b989b979a5095989497939692955090936101000135919050565b5f5f60408385031215610bd1575f5ffd5b610bda836109a6565b915060208301358015158114610bee575f5ffd5b809150509250929050565b5f5f5f5f5f5f5f5f5f6101208a8c031215610c12575f5ffd5b89359850610c2260208b016109a6565b9750610c3060408b016108f5565b9650610c3e60608b016109a6565b9550610c4c60808b016108f5565b989b979a50959894979660a0860135965060c08601359560e0810135955061010001359350915050565b634e487b7160e01b5f52603260045260245ffd5b5f5f8335601e19843603018112610c9f575f5ffd5b83018035915067ffffffffffffffff821115610cb9575f5ffd5b602001915036819003821315610ccd575f5ffd5b9250929050565b818382375f9101908152919050565b5f600160ff1b8201610d0357634e487b7160e01b5f52601160045260245ffd5b505f039056fe8011c4f2ceb9ce832b2b467bfea51d1496d4c214923865b0fb71c9d758e8dcbe' as const,
};
